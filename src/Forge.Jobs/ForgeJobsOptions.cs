using System.Text.Json;
using Forge.Jobs.Serialization;

namespace Forge.Jobs;

/// <summary>Options of the node and its engine. Validated at start-up; a bad value stops the host with a
/// message that names the option and what to change.</summary>
public sealed class ForgeJobsOptions
{
    /// <summary>The node's id, stamped as lease owner on the jobs it runs and recorded in their history: 1 to 128
    /// characters, not only white space, with no control characters. It is stored as given.</summary>
    /// <value>Defaults to <c>{machine}-{process id}-{random}</c>, unique per process start.</value>
    public string NodeId { get; set; } = NodeIds.CreateDefault();

    /// <summary>How long a claim is valid without renewal. A node that dies loses its jobs to the rescuer this
    /// long after its last renewal.</summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the leases of running jobs are extended. Must be shorter than <see cref="LeaseDuration"/>.</summary>
    /// <value>Defaults to 10 seconds.</value>
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often an idle node looks for due jobs when nothing wakes it sooner.</summary>
    /// <value>Defaults to 1 second.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most jobs this node runs at once, across all its queues. When the queues' free slots add up to
    /// more than the node has left, the node shares its free slots among the queues by their
    /// <see cref="QueueOptions.Weight"/>. From 1 to 100,000.</summary>
    /// <value>Defaults to none: each queue runs up to its own concurrency.</value>
    public int? MaxConcurrency { get; set; }

    /// <summary>How often expired leases are looked for and their jobs rescued.</summary>
    /// <value>Defaults to 15 seconds.</value>
    public TimeSpan RescueInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the leader reads every queue's depth by state and the live nodes for the cluster gauges of the
    /// <c>Forge.Jobs</c> meter (docs/observability.md). One query pass per interval, on the leader only; on PostgreSQL
    /// it counts the jobs table, retained finished jobs included.</summary>
    /// <value>Defaults to 15 seconds.</value>
    public TimeSpan ClusterMetricsInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long shutdown waits for running jobs before it cancels them and hands them back to the queue.
    /// Cancelled handlers then get up to 6 seconds to stop, outcomes up to 5 seconds to be stored and leaving the
    /// cluster up to 2 seconds, so a stop takes at most this plus 13 seconds. Keep the host's
    /// <c>HostOptions.ShutdownTimeout</c> (30 s by default) above that, or the host stops waiting first.</summary>
    /// <value>Defaults to 15 seconds.</value>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a succeeded job (with its result and history) is kept before the leader deletes it.
    /// Its idempotency key is released with it.</summary>
    /// <value>Defaults to 1 day.</value>
    public TimeSpan SucceededRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a dead or cancelled job is kept (the dead-letter set) before the leader deletes it.</summary>
    /// <value>Defaults to 14 days.</value>
    public TimeSpan FailedRetention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>The retry backoff for jobs whose job type and queue set none.</summary>
    /// <value>Defaults to <see cref="RetryBackoff.Default"/>: 1 s doubling, capped at 5 min, ±20 % jitter.</value>
    public RetryBackoff Backoff { get; set; } = RetryBackoff.Default;

    /// <summary>Serializer options for payloads and results. Pass options whose <c>TypeInfoResolver</c> is a
    /// source-generated <c>JsonSerializerContext</c> to serialize without reflection.</summary>
    /// <value>Defaults to <see cref="JsonSerializerDefaults.Web"/> (camelCase, case-insensitive reads).</value>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>How late a cron occurrence may be handled and still run as usual. An occurrence that the leader handles
    /// more than this after its time (because no node led, the cluster was down or the store could not be reached) is
    /// missed, and its schedule's <see cref="MisfirePolicy"/> decides whether it runs. Keep it above
    /// <see cref="LeaseDuration"/> + <see cref="LeaseRenewInterval"/>, so that occurrences falling while leadership passes
    /// to another node still run. The leader also looks at the schedules at least every half of it.</summary>
    /// <value>Defaults to 1 minute.</value>
    public TimeSpan MisfireThreshold { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The largest payload a job may have, in bytes of its serialized UTF-8 JSON. Every enqueue (one job, many,
    /// in a transaction, a workflow, a batch, a schedule) refuses a larger one with an <see cref="ArgumentException"/>
    /// before anything is stored. Large data belongs elsewhere (a table, an object store), with a reference in the
    /// payload. From 1 KiB to 256 MiB, and at most <see cref="MaxClaimBytes"/>.</summary>
    /// <value>Defaults to 1 MiB (1,048,576 bytes).</value>
    public int MaxPayloadBytes { get; set; } = JobDefaults.MaxPayloadBytes;

    /// <summary>The most payload bytes one claim takes. A claim takes jobs in claim order while their payloads add up to
    /// no more than this, but always at least one job, so the memory a claim needs stays bounded however many slots are
    /// free. From 1 KiB to 1 GiB, and at least <see cref="MaxPayloadBytes"/>.</summary>
    /// <value>Defaults to 16 MiB (16,777,216 bytes).</value>
    public int MaxClaimBytes { get; set; } = JobDefaults.MaxClaimBytes;

    internal Dictionary<string, QueueOptions> Queues { get; } = new(StringComparer.Ordinal)
    {
        [QueueOptions.DefaultQueue] = new QueueOptions(QueueOptions.DefaultQueue),
    };

    internal List<HandlerRegistration> Handlers { get; } = [];

    internal List<Scheduling.ScheduleRegistration> Schedules { get; } = [];
}
