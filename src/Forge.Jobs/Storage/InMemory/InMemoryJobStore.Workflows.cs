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
                ? job.Parents.Keys.Order().Select(_jobs.GetValueOrDefault).OfType<StoredJob>().Select(p => p.ToInfo()).ToList()
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
                child.Parents.Add(parentJob.Id, new StoredDependency(parent.RunAnyway));
                child.UnresolvedParents++;
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

        // Parents that finished before this call resolve at once, and the children they fail are cancelled,
        // which resolves their own children in this call in turn.
        var none = (HashSet<string>?)null;
        foreach (var parentId in stored.OfType<StoredJob>().SelectMany(child => child.Parents.Keys).Distinct().ToList())
        {
            if (_jobs[parentId].State.IsTerminal())
            {
                ResolveChildren(_jobs[parentId], now, ref none, enqueue: false);
            }
        }

        foreach (var child in stored)
        {
            if (child is { State: JobState.Waiting, UnresolvedParents: 0 })
            {
                child.State = child.RunAt > now ? JobState.Scheduled : JobState.Available;
            }
        }
    }

    /// <summary>Resolves the children of a job that has just finished, and theirs in turn when they are cancelled.
    /// Released children are made due and indexed, unless <paramref name="enqueue"/> is off: an insert in progress
    /// does that for its own jobs.</summary>
    private void ResolveChildren(StoredJob finished, DateTimeOffset now, ref HashSet<string>? availableQueues, bool enqueue = true)
    {
        var frontier = new Queue<StoredJob>();
        frontier.Enqueue(finished);
        while (frontier.TryDequeue(out var parent))
        {
            var failed = parent.State is JobState.Dead or JobState.Cancelled;
            foreach (var childId in parent.Children)
            {
                if (!_jobs.TryGetValue(childId, out var child) || child.State != JobState.Waiting
                    || !child.Parents.TryGetValue(parent.Id, out var dependency) || dependency.Resolved)
                {
                    continue;
                }

                dependency.Resolved = true;
                child.UnresolvedParents--;
                if (failed && !dependency.RunAnyway)
                {
                    Cancel(child, now);
                    frontier.Enqueue(child);
                }
                else if (child.UnresolvedParents == 0 && enqueue)
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

    private static void Cancel(StoredJob child, DateTimeOffset now)
    {
        child.State = JobState.Cancelled;
        child.FinishedAt = now;
        child.LastError = CancelledByParent;
        child.UnresolvedParents = 0;
        foreach (var dependency in child.Parents.Values)
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
