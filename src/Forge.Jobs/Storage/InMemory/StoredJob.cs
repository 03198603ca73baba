namespace Forge.Jobs.Storage.InMemory;

/// <summary>The mutable row behind one job. Guarded by the store's lock; fields that order a job in an index
/// (priority, run-at, id) change only while the job is outside every index.</summary>
internal sealed class StoredJob
{
    public required long Id { get; init; }
    public required string Type { get; init; }
    public required string Queue { get; init; }
    public required string Payload { get; init; }
    public required int PayloadBytes { get; init; }
    public required int Priority { get; init; }
    public required TimeSpan Timeout { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required IReadOnlyList<string> Tags { get; init; }
    public string? IdempotencyKey { get; init; }
    public RetryBackoff? Backoff { get; init; }
    public BatchId? Batch { get; init; }
    public string? TraceParent { get; init; }
    public string? TraceState { get; init; }
    public Dictionary<long, StoredDependency> Parents { get; } = [];
    public int UnresolvedParents { get; set; }
    public List<long> Children { get; } = [];

    public JobState State { get; set; }
    public int Attempt { get; set; }
    public int Failures { get; set; }
    public int MaxRetries { get; set; }
    public DateTimeOffset RunAt { get; set; }
    public DateTimeOffset? AttemptedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset LeaseUntil { get; set; }
    public bool CancelRequested { get; set; }
    public string? Result { get; set; }
    public string? LastError { get; set; }
    public List<JobAttempt> Attempts { get; } = [];

    public JobInfo ToInfo() => new()
    {
        Id = new JobId(Id),
        Type = Type,
        Queue = Queue,
        State = State,
        Priority = Priority,
        Attempt = Attempt,
        MaxRetries = MaxRetries,
        CreatedAt = CreatedAt,
        RunAt = RunAt,
        AttemptedAt = AttemptedAt,
        FinishedAt = FinishedAt,
        Node = State == JobState.Running ? LeaseOwner : null,
        Payload = Payload,
        Result = Result,
        LastError = LastError,
        IdempotencyKey = IdempotencyKey,
        Tags = Tags,
        Batch = Batch,
        DependsOn = Parents.Count == 0 ? [] : [.. Parents.Keys.Order().Select(id => new JobId(id))],
    };
}

/// <summary>One parent of a job: resolved once the parent has finished or the job was cancelled.</summary>
internal sealed class StoredDependency(bool runAnyway)
{
    public bool RunAnyway { get; } = runAnyway;
    public bool Resolved { get; set; }
}
