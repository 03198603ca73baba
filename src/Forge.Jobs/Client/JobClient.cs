using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Forge.Jobs.Diagnostics;
using Forge.Jobs.Processing;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Npgsql;

namespace Forge.Jobs.Client;

/// <summary>The client: validates what callers pass, then asks the store. Queue settings made here also reach this
/// process's node at once through <c>control</c> (absent when the client is built without a node), and schedule changes wake its scheduler through <c>cron</c>.</summary>
internal sealed partial class JobClient(
    IJobStore store, JobTypeRegistry registry, QueueControl? control = null, Scheduling.CronContext? cron = null, ForgeJobsMetrics? metrics = null) : IJobClient
{
    public const int MaxListLimit = 1000;

    public Task<JobId> EnqueueAsync<TJob>(TJob job, JobOptions? options = null, CancellationToken cancellationToken = default) =>
        EnqueueCoreAsync(job, options, transaction: null, cancellationToken);

    public Task<JobId> EnqueueAsync<TJob>(TJob job, JobOptions? options, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return EnqueueCoreAsync(job, options, transaction, cancellationToken);
    }

    private async Task<JobId> EnqueueCoreAsync<TJob>(TJob job, JobOptions? options, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var inserted = await InsertAsync([NewJobs.Create(job, options, registry)], transaction, cancellationToken).ConfigureAwait(false);
        return inserted[0].Id;
    }

    public Task<IReadOnlyList<JobId>> EnqueueManyAsync<TJob>(IEnumerable<TJob> jobs, JobOptions? options = null, CancellationToken cancellationToken = default) =>
        EnqueueManyCoreAsync(jobs, options, transaction: null, cancellationToken);

    public Task<IReadOnlyList<JobId>> EnqueueManyAsync<TJob>(IEnumerable<TJob> jobs, JobOptions? options, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return EnqueueManyCoreAsync(jobs, options, transaction, cancellationToken);
    }

    private async Task<IReadOnlyList<JobId>> EnqueueManyCoreAsync<TJob>(IEnumerable<TJob> jobs, JobOptions? options, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (options?.IdempotencyKey is not null)
        {
            throw new ArgumentException("EnqueueManyAsync applies one JobOptions to every job, so an IdempotencyKey would make them one job. Enqueue jobs with keys one by one with EnqueueAsync.", nameof(options));
        }

        var rows = jobs.Select(job => NewJobs.Create(job, options, registry)).ToList();
        if (rows.Count == 0)
        {
            return [];
        }

        var inserted = await InsertAsync(rows, transaction, cancellationToken).ConfigureAwait(false);
        var ids = new JobId[inserted.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = inserted[i].Id;
        }

        return ids;
    }

    /// <summary>Stores the jobs of one enqueue call inside its <c>send</c> span, each with the W3C context that its
    /// attempts will link to: the span's, else the caller's current activity's, else none.</summary>
    private async Task<IReadOnlyList<InsertedJob>> InsertAsync(IReadOnlyList<NewJob> rows, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        if (transaction is not null && store is not PostgresJobStore)
        {
            throw new InvalidOperationException("Enqueueing inside a transaction needs the PostgreSQL store: call UsePostgres in AddForgeJobs.");
        }

        using var send = ForgeJobsActivities.StartSend(rows);
        try
        {
            var traced = ForgeJobsActivities.WithContext(rows, send);
            var inserted = transaction is null
                ? await store.InsertManyAsync(traced, cancellationToken).ConfigureAwait(false)
                : await ((PostgresJobStore)store).InsertManyAsync(traced, transaction, cancellationToken).ConfigureAwait(false);
            ForgeJobsActivities.Sent(send, inserted);
            metrics?.Enqueued(rows, inserted);
            return inserted;
        }
        catch (Exception exception) when (send is not null)
        {
            ForgeJobsActivities.Failed(send, exception);
            throw;
        }
    }

    public Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken = default) =>
        store.GetAsync(id, cancellationToken);

    public Task<IReadOnlyList<JobInfo>> ListJobsAsync(JobQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > MaxListLimit)
        {
            throw new ArgumentException($"JobQuery.Limit is {query.Limit}; use 1 to {MaxListLimit} and page with JobQuery.Before.", nameof(query));
        }

        // A filter follows the rule of what it filters on: a value that rule refuses matches nothing that could be stored.
        var invalid = query.Queue is { } queue && !QueueNames.IsValid(queue) ? $"JobQuery.Queue: {QueueNames.Describe(queue)}"
            : query.Type is { } type && !JobTypeNames.IsValid(type) ? $"JobQuery.Type: {JobTypeNames.Describe(type)}"
            : query.Tag is { } tag && !JobTags.IsValid(tag) ? $"JobQuery.Tag: {JobTags.Describe(tag)}"
            : null;
        if (invalid is not null)
        {
            throw new ArgumentException(invalid, nameof(query));
        }

        return store.ListAsync(query, cancellationToken);
    }

    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(JobId id, CancellationToken cancellationToken = default) =>
        store.GetAttemptsAsync(id, cancellationToken);

    public async Task<TResult?> GetResultAsync<TResult>(JobId id, CancellationToken cancellationToken = default)
    {
        var job = await store.GetAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"No job has id {id}.");
        if (job.State != JobState.Succeeded)
        {
            throw new InvalidOperationException($"Job {id} is {job.State.ToName()}; only a succeeded job has a result.");
        }

        if (job.Result is null)
        {
            throw new InvalidOperationException($"Job {id} succeeded without a result: the handler of '{job.Type}' implements IJobHandler<T>, not IJobHandler<T, TResult>.");
        }

        return JsonSerializer.Deserialize(job.Result, (JsonTypeInfo<TResult>)registry.Serializer.GetTypeInfo(typeof(TResult)));
    }

    public Task<CancelResult> CancelAsync(JobId id, CancellationToken cancellationToken = default) =>
        store.CancelAsync(id, cancellationToken);

    public Task<bool> RetryAsync(JobId id, CancellationToken cancellationToken = default) =>
        store.RetryAsync(id, cancellationToken);

    public Task PauseQueueAsync(string queue, CancellationToken cancellationToken = default) =>
        store.SetQueuePausedAsync(ValidQueue(queue), paused: true, cancellationToken);

    public Task ResumeQueueAsync(string queue, CancellationToken cancellationToken = default) =>
        store.SetQueuePausedAsync(ValidQueue(queue), paused: false, cancellationToken);

    public Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken = default) =>
        store.ListQueuesAsync(cancellationToken);

    private static string ValidQueue(string queue) =>
        QueueNames.IsValid(queue) ? queue : throw new ArgumentException(QueueNames.Describe(queue), nameof(queue));

    public Task<IReadOnlyList<NodeInfo>> ListNodesAsync(CancellationToken cancellationToken = default) =>
        store.ListNodesAsync(cancellationToken);

    public Task<bool> DrainNodeAsync(string nodeId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodeId);
        return NodeIds.IsValid(nodeId)
            ? store.RequestDrainAsync(nodeId, cancellationToken)
            : throw new ArgumentException(NodeIds.Describe(nodeId), nameof(nodeId));
    }
}
