using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Forge.Jobs.Processing;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Forge.Jobs;

/// <summary>What a handler knows about the attempt it runs, and what it can do about it.</summary>
public sealed class JobContext
{
    private readonly RunningJob _attempt;
    private readonly ILogger _logger;
    private readonly AttemptServices _services;

    internal JobContext(RunningJob attempt, ILogger logger, AttemptServices services)
    {
        _attempt = attempt;
        _logger = logger;
        _services = services;
    }

    private ClaimedJob Claimed => _attempt.Job;

    /// <summary>The job's id.</summary>
    public JobId JobId => Claimed.Id;

    /// <summary>The job's stable type name.</summary>
    public string JobType => Claimed.Type;

    /// <summary>The queue the job was claimed from.</summary>
    public string Queue => Claimed.Queue;

    /// <summary>This attempt's number, from 1.</summary>
    public int Attempt => Claimed.Attempt;

    /// <summary>How many failed attempts the job may retry; the job is dead when failure <c>MaxRetries + 1</c> happens.</summary>
    public int MaxRetries => Claimed.MaxRetries;

    /// <summary>How many attempts of the job failed before this one. Attempts handed back by a shutdown do not count.</summary>
    public int PreviousFailures => Claimed.Failures;

    /// <summary>Whether a failure of this attempt makes the job dead instead of retrying it.</summary>
    public bool IsLastAttempt => Claimed.Failures + 1 > Claimed.MaxRetries;

    /// <summary>A logger whose scope carries the job id, type, queue and attempt. Its lines go to the host's logging,
    /// and those of level <see cref="LogLevel.Information"/> and above are also kept in the job's history with this
    /// attempt (<see cref="JobAttempt.Logs"/>), up to 100 lines and 16,384 characters.</summary>
    public ILogger Logger => _attempt.Logger(_logger);

    /// <summary>Extends this attempt's lease now, for a handler about to do a long step. Leases are also
    /// extended in the background while the handler runs, so most handlers never call this.</summary>
    /// <returns><see langword="false"/> when the lease was lost (the job was rescued and may run elsewhere):
    /// the handler should stop, as its outcome will not be stored.</returns>
    public Task<bool> ExtendLeaseAsync(CancellationToken cancellationToken = default) =>
        _services.Leases.ExtendOneAsync(Claimed, cancellationToken);

    /// <summary>The jobs this one depends on, in id order, with their states and results. A job runs once every
    /// parent has finished, so each has (unless a dependency made with <see cref="JobDependency.Finished(JobId)"/>
    /// let it run after a parent ended dead or cancelled). Parents deleted by retention are absent.</summary>
    public Task<IReadOnlyList<JobInfo>> GetParentsAsync(CancellationToken cancellationToken = default) =>
        _services.Store.GetParentsAsync(Claimed.Id, cancellationToken);

    /// <summary>The results of the parents that succeeded with a result, read as <typeparamref name="TResult"/>, by
    /// parent id in id order: the inputs of a fan-in step.</summary>
    /// <exception cref="System.Text.Json.JsonException">A parent's result does not read as <typeparamref name="TResult"/>.</exception>
    public async Task<IReadOnlyDictionary<JobId, TResult>> GetParentResultsAsync<TResult>(CancellationToken cancellationToken = default)
    {
        var typeInfo = (JsonTypeInfo<TResult>)_services.Serializer.GetTypeInfo(typeof(TResult));
        var parents = await GetParentsAsync(cancellationToken).ConfigureAwait(false);
        var results = new Dictionary<JobId, TResult>(parents.Count);
        foreach (var parent in parents)
        {
            if (parent is { State: JobState.Succeeded, Result: { } result })
            {
                results.Add(parent.Id, JsonSerializer.Deserialize(result, typeInfo)!);
            }
        }

        return results;
    }

    /// <summary>The batch this job belongs to, or whose callback it is, with its jobs counted by state; a callback
    /// reads the outcome of the batch here. <see langword="null"/> for a job outside any batch.</summary>
    public async Task<BatchInfo?> GetBatchAsync(CancellationToken cancellationToken = default)
    {
        var job = await _services.Store.GetAsync(Claimed.Id, cancellationToken).ConfigureAwait(false);
        return job?.Batch is { } batch ? await _services.Store.GetBatchAsync(batch, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <summary>Marks this job succeeded inside the handler's own transaction on the store's PostgreSQL database,
    /// so that the handler's writes and the job's completion commit together or not at all. Call it just before
    /// committing; after the handler returns, the node stores nothing more for this attempt, so the history keeps the
    /// lines logged before this call and not those logged after it. If the transaction
    /// rolls back instead, the job stays running until its lease expires and is then retried.</summary>
    /// <exception cref="LeaseLostException">The attempt lost its lease: do not commit.</exception>
    /// <exception cref="InvalidOperationException">The store is not the PostgreSQL store, or the transaction is not
    /// READ COMMITTED (the default).</exception>
    public Task CompleteAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken = default) =>
        CompleteAsync(transaction, result: null, cancellationToken);

    /// <summary>Marks this job succeeded with <paramref name="result"/> inside the handler's own transaction.</summary>
    /// <inheritdoc cref="CompleteAsync(NpgsqlTransaction, CancellationToken)"/>
    public Task CompleteAsync<TResult>(NpgsqlTransaction transaction, TResult result, CancellationToken cancellationToken = default) =>
        CompleteAsync(transaction, JsonSerializer.Serialize(result, (JsonTypeInfo<TResult>)_services.Serializer.GetTypeInfo(typeof(TResult))), cancellationToken);

    private async Task CompleteAsync(NpgsqlTransaction transaction, string? result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var store = _services.Store as PostgresJobStore
            ?? throw new InvalidOperationException("Completing a job inside a transaction needs the PostgreSQL store: call UsePostgres in AddForgeJobs.");
        var completion = new Completion(Claimed.Id, Claimed.LeaseOwner, Claimed.Attempt, CompletionOutcome.Succeeded, Result: result, Logs: _attempt.Logs());
        var refused = await store.CompleteManyAsync([completion], transaction, cancellationToken).ConfigureAwait(false);
        if (refused.Count > 0)
        {
            throw new LeaseLostException(Claimed.Id, Claimed.Attempt);
        }

        _attempt.CompletedByHandler = true;
    }
}
