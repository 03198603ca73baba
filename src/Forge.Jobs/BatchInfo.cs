namespace Forge.Jobs;

/// <summary>A batch as it is now: how many of its jobs are in each state.</summary>
public sealed record BatchInfo
{
    /// <summary>The batch's id.</summary>
    public required BatchId Id { get; init; }

    /// <summary>How many jobs the batch holds (its callback not included).</summary>
    public required int Total { get; init; }

    /// <summary>How many of the batch's jobs are in each state (its callback not included); states without jobs are absent.</summary>
    public required IReadOnlyDictionary<JobState, int> Counts { get; init; }

    /// <summary>The job that runs once every job of the batch has finished, if the batch has one.</summary>
    public JobId? CallbackJobId { get; init; }

    /// <summary>When the batch was enqueued, on the store's clock.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>How many of the batch's jobs have finished (succeeded, dead or cancelled). Finished jobs that
    /// retention has deleted still count here, though no longer in <see cref="Counts"/>.</summary>
    public int Finished => Total - Counts.Where(c => !c.Key.IsTerminal()).Sum(c => c.Value);

    /// <summary>Whether every job of the batch has finished.</summary>
    public bool IsFinished => Finished == Total;

    /// <summary>The finished share of the batch, from 0 to 1.</summary>
    public double Progress => Total == 0 ? 1 : (double)Finished / Total;

    /// <summary>How many of the batch's jobs are in <paramref name="state"/>.</summary>
    public int Count(JobState state) => Counts.GetValueOrDefault(state);
}
