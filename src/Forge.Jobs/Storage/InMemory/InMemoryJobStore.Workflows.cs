using Forge.Jobs.Storage;

namespace Forge.Jobs.Storage.InMemory;

internal sealed partial class InMemoryJobStore
{
    private const string CancelledByParent = "Cancelled because a job it depends on ended dead or cancelled.";

    private readonly Dictionary<BatchId, StoredBatch> _batches = [];

    public Task<IReadOnlyList<JobInfo>> GetParentsAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            PromoteDue();
            IReadOnlyList<JobInfo> parents = _jobs.TryGetValue(id.Value, out var job)
                ? job.Parents.Select(p => _jobs.GetValueOrDefault(p.ParentId)).OfType<StoredJob>().OrderBy(p => p.Id).Select(p => p.ToInfo()).ToList()
                : [];
            return Task.FromResult(parents);
        }
    }

    public Task<BatchInfo?> GetBatchAsync(BatchId id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            PromoteDue();
            if (!_batches.TryGetValue(id, out var batch))
            {
                return Task.FromResult<BatchInfo?>(null);
            }

            var counts = batch.Jobs
                .Where(job => _jobs.ContainsKey(job.Id))
                .GroupBy(job => job.State)
                .ToDictionary(g => g.Key, g => g.Count());
            return Task.FromResult<BatchInfo?>(new BatchInfo
            {
                Id = id,
                Total = batch.Jobs.Count,
                Counts = counts,
                CallbackJobId = batch.CallbackId is { } callback ? new JobId(callback) : null,
                CreatedAt = batch.CreatedAt,
            });
        }
    }

    /// <summary>Checks, before anything is stored, that every stored parent named by <paramref name="jobs"/> exists.</summary>
    private void ThrowIfAnyParentIsMissing(IReadOnlyList<NewJob> jobs)
    {
        foreach (var parent in jobs.SelectMany(job => job.DependsOn ?? []))
        {
            if (parent.Job is { } id && !_jobs.ContainsKey(id.Value))
            {
                throw NewDependency.MissingParent(id);
            }
        }
    }

    /// <summary>Links newly stored jobs to their parents and sets their first state: cancelled when a parent has
    /// failed them already, waiting while a parent is unfinished, else due or scheduled by run-at.</summary>
    /// <param name="jobs">The rows of the insert call.</param>
    /// <param name="stored">Per input row, the job stored for it, or null where its idempotency key matched.</param>
    /// <param name="now">The store's clock.</param>
    private void Link(IReadOnlyList<NewJob> jobs, StoredJob?[] stored, DateTimeOffset now)
    {
        for (var i = 0; i < jobs.Count; i++)
        {
            if (stored[i] is not { } child)
            {
                continue;
            }

            foreach (var parent in jobs[i].DependsOn ?? [])
            {
                var parentJob = parent.Job is { } id ? _jobs[id.Value] : stored[parent.Row!.Value]!;
                child.Parents.Add(new StoredDependency(parentJob.Id, parent.RunAnyway) { Resolved = parentJob.State.IsTerminal() });
                parentJob.Children.Add(child.Id);
            }

            if (jobs[i].Batch is { } batchId)
            {
                if (!_batches.TryGetValue(batchId, out var batch))
                {
                    batch = new StoredBatch(now);
                    _batches.Add(batchId, batch);
                }

                if (jobs[i].IsBatchCallback)
                {
                    batch.CallbackId = child.Id;
                }
                else
                {
                    batch.Jobs.Add(child);
                }
            }
        }

        // Rows come parents first from a workflow, but any order is valid: settle until nothing changes.
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var child in stored)
            {
                if (child is not { State: JobState.Waiting })
                {
                    continue;
                }

                foreach (var dependency in child.Parents.Where(d => !d.Resolved && _jobs[d.ParentId].State.IsTerminal()))
                {
                    dependency.Resolved = true;
                }

                if (FailedByParent(child))
                {
                    Cancel(child, now);
                    changed = true;
                }
            }
        }

        foreach (var child in stored)
        {
            if (child is { State: JobState.Waiting } && child.Parents.All(p => p.Resolved))
            {
                child.State = child.RunAt > now ? JobState.Scheduled : JobState.Available;
            }
        }
    }

    /// <summary>Resolves the children of a job that has just finished, and theirs in turn when they are cancelled.</summary>
    private void ResolveChildren(StoredJob finished, DateTimeOffset now, ref HashSet<string>? availableQueues)
    {
        var frontier = new Queue<StoredJob>();
        frontier.Enqueue(finished);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var childId in parent.Children)
            {
                if (!_jobs.TryGetValue(childId, out var child) || child.State != JobState.Waiting)
                {
                    continue;
                }

                foreach (var dependency in child.Parents.Where(d => d.ParentId == parent.Id))
                {
                    dependency.Resolved = true;
                }

                if (FailedByParent(child))
                {
                    Cancel(child, now);
                    frontier.Enqueue(child);
                }
                else if (child.Parents.All(d => d.Resolved))
                {
                    child.State = child.RunAt > now ? JobState.Scheduled : JobState.Available;
                    QueueOf(child.Queue).Add(child);
                    if (child.State == JobState.Available)
                    {
                        (availableQueues ??= new(StringComparer.Ordinal)).Add(child.Queue);
                    }
                }
            }
        }
    }

    private bool FailedByParent(StoredJob child) =>
        child.Parents.Any(d => !d.RunAnyway && d.Resolved && _jobs.TryGetValue(d.ParentId, out var parent) && parent.State is JobState.Dead or JobState.Cancelled);

    private static void Cancel(StoredJob child, DateTimeOffset now)
    {
        child.State = JobState.Cancelled;
        child.FinishedAt = now;
        child.LastError = CancelledByParent;
        foreach (var dependency in child.Parents)
        {
            dependency.Resolved = true;
        }
    }

    /// <summary>Whether a finished job must be kept because a child that may read its result has not finished.</summary>
    private bool HasUnfinishedChildren(StoredJob job) =>
        job.Children.Any(id => _jobs.TryGetValue(id, out var child) && !child.State.IsTerminal());

    private void PruneBatches(DateTimeOffset before)
    {
        foreach (var (id, batch) in _batches.Where(b => b.Value.CreatedAt < before && !b.Value.Jobs.Any(j => _jobs.ContainsKey(j.Id))).ToList())
        {
            _batches.Remove(id);
        }
    }

    private sealed class StoredBatch(DateTimeOffset createdAt)
    {
        public DateTimeOffset CreatedAt { get; } = createdAt;
        public List<StoredJob> Jobs { get; } = [];
        public long? CallbackId { get; set; }
    }
}
