namespace Forge.Jobs.Storage;

/// <summary>A job to insert, with every option resolved. <see cref="RunAt"/> wins over <see cref="Delay"/>,
/// which is added to the store's clock. <see cref="MaxLength"/> is the bound of the job's queue, if it has one.
/// A job with <see cref="DependsOn"/> waits until its parents finish. A job with a <see cref="Batch"/> belongs to
/// it, or is its callback; the store creates the batch with the first job that names it. <see cref="PayloadBytes"/> is
/// the length of <see cref="Payload"/> in UTF-8, counted once where the job was made; claims weigh the job by it.
/// <see cref="TraceParent"/> and <see cref="TraceState"/> are the W3C trace context of where the job was enqueued, if any.</summary>
internal sealed record NewJob(
    string Type,
    string Queue,
    string Payload,
    int PayloadBytes,
    int Priority,
    int MaxRetries,
    TimeSpan Timeout,
    DateTimeOffset? RunAt,
    TimeSpan Delay,
    string? IdempotencyKey,
    IReadOnlyList<string> Tags,
    RetryBackoff? Backoff,
    int? MaxLength = null,
    IReadOnlyList<NewDependency>? DependsOn = null,
    BatchId? Batch = null,
    bool IsBatchCallback = false,
    string? TraceParent = null,
    string? TraceState = null);

/// <summary>A parent of a job to insert: a stored job, or the job at index <see cref="Row"/> of the same insert call.</summary>
internal readonly record struct NewDependency(JobId? Job, int? Row, bool RunAnyway)
{
    public static ArgumentException MissingParent(JobId parent) =>
        new($"JobOptions.DependsOn names job {parent}, which is not stored: it never existed, or retention deleted it after it finished. Enqueue without that parent, or with an existing one.");
}

internal readonly record struct InsertedJob(JobId Id, bool Existed);

/// <summary>One claim: up to <see cref="QueueLimit.Limit"/> jobs from each queue, and, when <see cref="MaxBytes"/> is set,
/// no more jobs (in claim order across the queues) than their payloads fit in it, but at least one.</summary>
internal sealed record ClaimRequest(string LeaseOwner, TimeSpan LeaseDuration, IReadOnlyList<QueueLimit> Queues, long? MaxBytes = null);

internal readonly record struct QueueLimit(string Queue, int Limit);

/// <summary>A job claimed under a lease: everything the engine needs to run one attempt. <see cref="Failures"/>
/// counts its failed attempts so far; attempts handed back by a shutdown are not failures. <see cref="Waited"/> is how
/// long it waited from due to claimed, on the store's clock. <see cref="TraceParent"/> and <see cref="TraceState"/> are
/// the W3C trace context stored when it was enqueued, if any.</summary>
internal sealed record ClaimedJob(
    JobId Id,
    string Type,
    string Queue,
    int Priority,
    int Attempt,
    int MaxRetries,
    TimeSpan Timeout,
    string Payload,
    RetryBackoff? Backoff,
    string LeaseOwner,
    int Failures,
    TimeSpan Waited,
    string? TraceParent = null,
    string? TraceState = null);

internal enum CompletionOutcome
{
    /// <summary>Done; stores <see cref="Completion.Result"/>.</summary>
    Succeeded,

    /// <summary>Failed (counted); becomes retrying until now + <see cref="Completion.RetryDelay"/>.</summary>
    Retry,

    /// <summary>Failed (counted) for the last time; becomes dead.</summary>
    Dead,

    /// <summary>Cancelled while it ran.</summary>
    Cancelled,

    /// <summary>Handed back unfinished (shutdown): available again at once.</summary>
    Released,
}

/// <summary>The outcome of one attempt, fenced on (<see cref="Id"/>, <see cref="LeaseOwner"/>, <see cref="Attempt"/>).
/// <see cref="Rescue"/> is set by the rescuer: such a completion applies only once the lease has expired, and the
/// attempt is recorded as <see cref="AttemptOutcome.LeaseExpired"/>. <see cref="Logs"/> are the lines the handler logged,
/// stored with the attempt; <see langword="null"/> when it logged none.</summary>
internal sealed record Completion(
    JobId Id,
    string LeaseOwner,
    int Attempt,
    CompletionOutcome Outcome,
    string? Result = null,
    string? Error = null,
    TimeSpan RetryDelay = default,
    bool Rescue = false,
    IReadOnlyList<JobLogLine>? Logs = null);

internal readonly record struct LeaseRef(JobId Id, int Attempt);

/// <param name="Lost">Leases no longer held: the job was rescued, cancelled or finished elsewhere.</param>
/// <param name="CancelRequested">Held leases of jobs whose cancellation has been asked for.</param>
internal sealed record LeaseRenewal(IReadOnlyList<JobId> Lost, IReadOnlyList<JobId> CancelRequested)
{
    public static readonly LeaseRenewal None = new([], []);
}

/// <summary>One beat of a node. <see cref="Starting"/> marks its first beat: the node (re)registers, so a row left by
/// an earlier process with the same id loses its start time and any drain request.</summary>
internal sealed record NodeHeartbeat(string NodeId, IReadOnlyList<string> Queues, bool Draining, bool Starting = false);

internal sealed record ExpiredLease(
    JobId Id,
    string Type,
    string Queue,
    int Attempt,
    int MaxRetries,
    RetryBackoff? Backoff,
    string LeaseOwner,
    int Failures);
