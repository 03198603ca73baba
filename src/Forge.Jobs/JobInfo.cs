namespace Forge.Jobs;

/// <summary>A stored job as it is now.</summary>
public sealed record JobInfo
{
    /// <summary>The job's id.</summary>
    public required JobId Id { get; init; }

    /// <summary>The stable job type name.</summary>
    public required string Type { get; init; }

    /// <summary>The queue it runs on.</summary>
    public required string Queue { get; init; }

    /// <summary>Where the job is in its life.</summary>
    public required JobState State { get; init; }

    /// <summary>0 to 9; 9 runs first.</summary>
    public required int Priority { get; init; }

    /// <summary>How many attempts have started, from 0.</summary>
    public required int Attempt { get; init; }

    /// <summary>How many failed attempts the job may retry before it is dead.</summary>
    public required int MaxRetries { get; init; }

    /// <summary>When it was enqueued, on the store's clock.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it is (or was) due to run.</summary>
    public required DateTimeOffset RunAt { get; init; }

    /// <summary>When its latest attempt started.</summary>
    public DateTimeOffset? AttemptedAt { get; init; }

    /// <summary>When it reached a terminal state.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The node that holds it while it runs.</summary>
    public string? Node { get; init; }

    /// <summary>The payload as JSON.</summary>
    public required string Payload { get; init; }

    /// <summary>The result as JSON, once a handler that returns one has succeeded.</summary>
    public string? Result { get; init; }

    /// <summary>The error of the latest attempt that did not succeed (failed, timed out, cancelled, interrupted or
    /// rescued).</summary>
    public string? LastError { get; init; }

    /// <summary>The idempotency key it was enqueued with.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Its tags.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The batch it belongs to (or is the callback of), if any.</summary>
    public BatchId? Batch { get; init; }

    /// <summary>The jobs it depends on, in id order. A waiting job becomes available when all have finished.</summary>
    public IReadOnlyList<JobId> DependsOn { get; init; } = [];
}
