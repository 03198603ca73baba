using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;

namespace Forge.Jobs;

/// <summary>Jobs enqueued as one unit by <see cref="IJobClient.EnqueueBatchAsync(JobBatch, CancellationToken)"/>,
/// in one round trip and one transaction, under one <see cref="BatchId"/>. Its status (jobs per state, progress)
/// is read with <see cref="IJobClient.GetBatchAsync"/>. An optional callback job runs once, when every job of the
/// batch has finished, whatever their outcomes; its handler reads the counts with
/// <see cref="JobContext.GetBatchAsync"/>.</summary>
public sealed class JobBatch
{
    private readonly List<Func<JobTypeRegistry, NewJob>> _jobs = [];
    private Func<JobTypeRegistry, NewJob>? _callback;

    /// <summary>How many jobs the batch has, its callback not included.</summary>
    public int Count => _jobs.Count;

    /// <summary>Adds a job. Its options may not carry an <see cref="JobOptions.IdempotencyKey"/>.</summary>
    public JobBatch Add<TJob>(TJob job, JobOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        _jobs.Add(registry => NewJobs.Create(job, options, registry, JobGroup.BatchJob));
        return this;
    }

    /// <summary>Adds many jobs of one type, all with the same options.</summary>
    public JobBatch AddRange<TJob>(IEnumerable<TJob> jobs, JobOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        foreach (var job in jobs)
        {
            Add(job, options);
        }

        return this;
    }

    /// <summary>Sets the job that runs once every job of the batch has finished (succeeded, dead or cancelled).</summary>
    /// <param name="job">The callback's payload; its handler reads the batch's counts with <see cref="JobContext.GetBatchAsync"/>.</param>
    /// <param name="options">How the callback runs. It may not carry an idempotency key or dependencies.</param>
    /// <exception cref="InvalidOperationException">The batch already has a callback.</exception>
    public JobBatch OnFinished<TJob>(TJob job, JobOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (_callback is not null)
        {
            throw new InvalidOperationException("The batch already has a callback; a batch has at most one.");
        }

        if (options?.DependsOn is not null)
        {
            throw new ArgumentException("JobOptions.DependsOn is set on a batch callback, which already waits for every job of the batch. Remove it.", nameof(options));
        }

        _callback = registry => NewJobs.Create(job, options, registry, JobGroup.BatchJob);
        return this;
    }

    /// <summary>The rows to insert: the batch's jobs, then its callback waiting on every one of them.</summary>
    internal List<NewJob> Plan(BatchId id, JobTypeRegistry registry)
    {
        if (_jobs.Count == 0)
        {
            throw new ArgumentException("The batch has no jobs; add at least one with JobBatch.Add.");
        }

        var rows = new List<NewJob>(_jobs.Count + 1);
        foreach (var create in _jobs)
        {
            rows.Add(create(registry) with { Batch = id });
        }

        if (_callback is not null)
        {
            var parents = new NewDependency[rows.Count];
            for (var i = 0; i < parents.Length; i++)
            {
                parents[i] = new NewDependency(null, i, RunAnyway: true);
            }

            rows.Add(_callback(registry) with { Batch = id, IsBatchCallback = true, DependsOn = parents });
        }

        return rows;
    }
}
