using System.Diagnostics;
using System.Diagnostics.Metrics;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Diagnostics;

/// <summary>The instruments of the <c>Forge.Jobs</c> meter, one set per service provider (made by the host's
/// <see cref="IMeterFactory"/> when it has one). Tags are bounded: queue, job type and outcome, never a job id. Each
/// method is cheap when nothing listens. The names, units and tags are listed in docs/observability.md.</summary>
internal sealed class ForgeJobsMetrics : IDisposable
{
    public const string MeterName = "Forge.Jobs";

    /// <summary>Seconds, from a few milliseconds to an hour: job durations and waits span that range.</summary>
    private static readonly InstrumentAdvice<double> SecondsAdvice = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    };

    private readonly Meter _meter;
    private readonly Counter<long> _enqueued;
    private readonly Counter<long> _started;
    private readonly Counter<long> _completed;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _wait;
    private readonly Counter<long> _rescued;
    private readonly Counter<long> _leasesLost;

    public ForgeJobsMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _enqueued = _meter.CreateCounter<long>("forge.jobs.enqueued", "{job}", "Jobs this process stored, by an enqueue call or a cron occurrence it fired (an idempotent replay is not counted).");
        _started = _meter.CreateCounter<long>("forge.jobs.started", "{job}", "Attempts started on this node.");
        _completed = _meter.CreateCounter<long>("forge.jobs.completed", "{job}", "Attempts finished on this node, by outcome.");
        _duration = _meter.CreateHistogram("forge.jobs.duration", "s", "How long attempts ran on this node, by outcome.", tags: null, SecondsAdvice);
        _wait = _meter.CreateHistogram("forge.jobs.wait", "s", "How long jobs waited from due to claimed, on the store's clock.", tags: null, SecondsAdvice);
        _rescued = _meter.CreateCounter<long>("forge.jobs.rescued", "{job}", "Attempts whose lease expired, failed by this node's rescuer while it led.");
        _leasesLost = _meter.CreateCounter<long>("forge.jobs.leases_lost", "{job}", "Outcomes this node could not store because the attempt's lease was lost.");
    }

    public Meter Meter => _meter;

    /// <summary>Reports how many attempts run on this node whenever a listener collects.</summary>
    public void ObserveRunning(Func<int> running) =>
        _meter.CreateObservableUpDownCounter("forge.jobs.running", running, "{job}", "Attempts running on this node now.");

    /// <summary>Reports the cluster's figures of the leader's last reading, when this node leads: every queue's jobs by
    /// state (each state, zeros included, so that a series does not vanish when its queue empties), its dead jobs, and
    /// the live nodes.</summary>
    public void ObserveCluster(Func<ClusterSample?> latest)
    {
        _meter.CreateObservableGauge("forge.jobs.queue.depth", () => Depths(latest()), "{job}", "Jobs in each queue by state, as the leader last read them.");
        _meter.CreateObservableGauge("forge.jobs.dead_letter.size", () => DeadLetters(latest()), "{job}", "Dead jobs in each queue, as the leader last read them.");
        _meter.CreateObservableGauge<int>(
            "forge.jobs.nodes.live", () => latest() is { } sample ? [new Measurement<int>(sample.LiveNodes)] : [], "{node}", "Nodes whose heartbeat is younger than a lease, as the leader last read them.");
    }

    /// <param name="jobs">The jobs of one insert.</param>
    /// <param name="inserted">The store's answer for each, when it may have returned existing jobs for their keys.</param>
    public void Enqueued(IReadOnlyList<NewJob> jobs, IReadOnlyList<InsertedJob>? inserted = null)
    {
        if (!_enqueued.Enabled)
        {
            return;
        }

        for (var i = 0; i < jobs.Count; i++)
        {
            if (inserted is null || !inserted[i].Existed)
            {
                _enqueued.Add(1, Tags(jobs[i].Queue, jobs[i].Type));
            }
        }
    }

    public void Started(ClaimedJob job)
    {
        var tags = Tags(job.Queue, job.Type);
        _started.Add(1, tags);
        _wait.Record(job.Waited.TotalSeconds, tags);
    }

    public void Completed(ClaimedJob job, CompletionOutcome outcome, TimeSpan duration)
    {
        var tags = Tags(job.Queue, job.Type);
        tags.Add("outcome", Outcome(outcome));
        _completed.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    public void Rescued(string queue, string type) => _rescued.Add(1, Tags(queue, type));

    public void LeasesLost(int count) => _leasesLost.Add(count);

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> Depths(ClusterSample? sample)
    {
        foreach (var queue in sample?.Queues ?? [])
        {
            foreach (var state in Enum.GetValues<JobState>())
            {
                yield return new Measurement<long>(queue.Counts.GetValueOrDefault(state), new("queue", queue.Name), new("state", state.ToName()));
            }
        }
    }

    private static IEnumerable<Measurement<long>> DeadLetters(ClusterSample? sample)
    {
        foreach (var queue in sample?.Queues ?? [])
        {
            yield return new Measurement<long>(queue.Counts.GetValueOrDefault(JobState.Dead), new KeyValuePair<string, object?>("queue", queue.Name));
        }
    }

    private static TagList Tags(string queue, string type) => new() { { "queue", queue }, { "type", type } };

    /// <summary>The name of an outcome in tags and attributes.</summary>
    internal static string Outcome(CompletionOutcome outcome) => outcome switch
    {
        CompletionOutcome.Succeeded => "succeeded",
        CompletionOutcome.Retry => "retried",
        CompletionOutcome.Dead => "dead",
        CompletionOutcome.Cancelled => "cancelled",
        _ => "interrupted",
    };
}
