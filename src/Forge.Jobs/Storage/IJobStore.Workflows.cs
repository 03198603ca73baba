namespace Forge.Jobs.Storage;

/// <summary>Dependencies and batches. A job inserted with parents waits until every parent has finished; when a
/// job finishes (by completion, rescue or cancellation) the store resolves its children in the same transaction:
/// a child whose parent ended dead or cancelled through a dependency that is not run-anyway is cancelled, and its
/// own children resolved in turn; a child with no unfinished parent becomes available.</summary>
internal partial interface IJobStore
{
    /// <summary>The parents of a job, in id order; parents deleted by retention are absent.</summary>
    Task<IReadOnlyList<JobInfo>> GetParentsAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>The batch with this id, or <see langword="null"/> when there is none.</summary>
    Task<BatchInfo?> GetBatchAsync(BatchId id, CancellationToken cancellationToken);
}
