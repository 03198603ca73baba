namespace Forge.Jobs;

/// <summary>What <see cref="IJobClient.CancelAsync"/> did.</summary>
public enum CancelResult
{
    /// <summary>No job has that id.</summary>
    NotFound,

    /// <summary>The job had not started; it is now <see cref="JobState.Cancelled"/>.</summary>
    Cancelled,

    /// <summary>The job is running: its cancellation token fires on the node that runs it, and the job ends
    /// <see cref="JobState.Cancelled"/> unless its handler completes first.</summary>
    CancellationRequested,

    /// <summary>The job had already reached a terminal state; nothing changed.</summary>
    AlreadyFinished,
}
