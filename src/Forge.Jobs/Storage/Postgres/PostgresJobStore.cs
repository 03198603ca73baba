using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>The durable store. Each operation is one statement (one round trip), written to serve the hot path:
/// claims take many jobs across queues with SKIP LOCKED, completions store many outcomes fenced on
/// (id, lease owner, attempt), inserts store many jobs. All times come from the database clock.</summary>
internal sealed partial class PostgresJobStore : IJobStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgresStoreOptions _options;
    private readonly PostgresStatements _sql;
    private readonly PostgresNotifier _notifier;
    private readonly int _commandTimeout;
    private readonly SemaphoreSlim _initializing = new(1, 1);
    private volatile bool _initialized;

    public PostgresJobStore(NpgsqlDataSource dataSource, bool ownsDataSource, PostgresStoreOptions options, PostgresNotifier notifier)
    {
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _options = options;
        _sql = new PostgresStatements(PostgresSchema.Quote(options.Schema));
        _notifier = notifier;
        _commandTimeout = Math.Max(1, (int)Math.Ceiling(options.CommandTimeout.TotalSeconds));
        Channel = options.Schema + ".jobs";
    }

    /// <summary>The NOTIFY channel of this schema's cluster.</summary>
    public string Channel { get; }

    /// <summary>Where the store's own connections come from.</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized)
        {
            return;
        }

        await _initializing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_initialized)
            {
                var schema = PostgresSchema.Quote(_options.Schema);
                if (_options.AutoMigrate)
                {
                    await PostgresMigrator.MigrateAsync(_dataSource, schema, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await PostgresMigrator.VerifyAsync(_dataSource, schema, cancellationToken).ConfigureAwait(false);
                }

                _initialized = true;
            }
        }
        finally
        {
            _initializing.Release();
        }
    }

    public Task<IReadOnlyList<InsertedJob>> InsertManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        InsertManyAsync(jobs, transaction: null, cancellationToken);

    /// <summary>Inserts in the caller's transaction when one is given: the jobs exist if and only if it commits,
    /// and the wake-up hint is delivered at that commit.</summary>
    public async Task<IReadOnlyList<InsertedJob>> InsertManyAsync(IReadOnlyList<NewJob> jobs, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var plan = InsertPlan.For(jobs);
        var ids = new long?[plan.Rows.Count];
        var connection = transaction?.Connection ?? await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var batch = new NpgsqlBatch(connection, transaction) { Timeout = _commandTimeout };
            await using (batch.ConfigureAwait(false))
            {
                if (plan.BoundedQueues.Count > 0)
                {
                    batch.BatchCommands.Add(BatchCommand(_sql.LockQueues, _options.Schema, plan.BoundedQueues.Order(StringComparer.Ordinal).ToArray()));
                }

                var insert = plan.InsertCommand(plan.IsPlain ? _sql.InsertPlain : _sql.Insert);
                batch.BatchCommands.Add(insert);
                var hint = (plan.DueQueues.Count > 0 || plan.Scheduled.Count > 0) && !_options.PollOnly;
                if (hint)
                {
                    // In the caller's transaction the hint must wait for its commit. Otherwise it goes in a
                    // transaction of its own after the insert commits (same round trip): PostgreSQL serializes the
                    // commits of transactions that notify, which would cap concurrent enqueues.
                    insert.AppendErrorBarrier = transaction is null;
                    if (transaction is null)
                    {
                        batch.BatchCommands.Add(new NpgsqlBatchCommand(_sql.HintWithoutFlush));
                    }

                    if (plan.DueQueues.Count > 0)
                    {
                        batch.BatchCommands.Add(BatchCommand(_sql.NotifyAvailable, Channel, plan.DueQueues.ToArray()));
                    }

                    if (plan.Scheduled.Count > 0)
                    {
                        batch.BatchCommands.Add(ScheduledHint(plan.Scheduled));
                    }
                }

                QueueFullException? full = null;
                long? missingParent = null;
                var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (plan.BoundedQueues.Count > 0)
                    {
                        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                    }

                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        if (!reader.IsDBNull(2))
                        {
                            full ??= new QueueFullException(reader.GetString(2), reader.GetInt32(3));
                            continue;
                        }

                        if (!reader.IsDBNull(4))
                        {
                            missingParent ??= reader.GetInt64(4);
                            continue;
                        }

                        ids[reader.GetInt64(0) - 1] = reader.IsDBNull(1) ? null : reader.GetInt64(1);
                    }

                    if (hint && transaction is null)
                    {
                        await SendHintAsync(reader, cancellationToken).ConfigureAwait(false);
                    }
                }

                if (full is not null)
                {
                    throw full;
                }

                if (missingParent is { } parent)
                {
                    throw NewDependency.MissingParent(new JobId(parent));
                }
            }

            var conflicted = plan.Rows.Where((row, i) => ids[i] is null).Select(row => row.IdempotencyKey!).ToArray();
            var existing = conflicted.Length == 0
                ? null
                : await ExistingKeysAsync(connection, transaction, conflicted, cancellationToken).ConfigureAwait(false);
            return plan.Results(ids, existing);
        }
        finally
        {
            if (transaction is null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads past the wake-up hint that follows an insert that has already committed. The jobs are stored
    /// whatever happens to the hint, so its failure must not fail the enqueue: polling covers a lost hint.</summary>
    private static async Task SendHintAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        try
        {
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
            {
            }
        }
        catch (NpgsqlException)
        {
        }
    }

    public async Task<ClaimResult> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var claim = await ClaimOnceAsync(request, request.Queues, request.MaxBytes, takeFirst: true, cancellationToken).ConfigureAwait(false);
        if (claim.Unlocked.Length == 0)
        {
            return claim.Result;
        }

        // A global limit this store had not heard of: those queues took nothing; claim them again under their locks,
        // within what is left of the byte budget (the first claim already took its one job of any size, if it took one).
        LearnGlobalLimits(claim.Unlocked);
        var left = request.MaxBytes - claim.Bytes;
        if (claim.Result.Count > 0 && left <= 0)
        {
            return new ClaimResult(claim.Result, claim.Result.NextDueIn, [.. claim.Result.Cut, .. claim.Unlocked]);
        }

        var again = await ClaimOnceAsync(
            request, [.. request.Queues.Where(q => claim.Unlocked.Contains(q.Queue))], left, takeFirst: claim.Result.Count == 0, cancellationToken).ConfigureAwait(false);
        var nextDueIn = again.Result.NextDueIn is { } later && (claim.Result.NextDueIn is null || later < claim.Result.NextDueIn) ? later : claim.Result.NextDueIn;
        return new ClaimResult([.. claim.Result, .. again.Result], nextDueIn, [.. claim.Result.Cut, .. again.Result.Cut]);
    }

    /// <summary>One claim: a batch (one round trip, one implicit transaction) that stages the due jobs of the queues, takes
    /// the advisory locks of those with a global limit, if any, and claims, within <paramref name="maxBytes"/> of payloads
    /// (the first job whatever its size when <paramref name="takeFirst"/>).</summary>
    /// <returns>The claim, the limited queues it could not lock, and the payload bytes it took.</returns>
    private async Task<(ClaimResult Result, string[] Unlocked, long Bytes)> ClaimOnceAsync(
        ClaimRequest request, IReadOnlyList<QueueLimit> queueLimits, long? maxBytes, bool takeFirst, CancellationToken cancellationToken)
    {
        var queues = new string[queueLimits.Count];
        var limits = new int[queueLimits.Count];
        for (var i = 0; i < queues.Length; i++)
        {
            (queues[i], limits[i]) = queueLimits[i];
        }

        var locked = LimitedAmong(queues);
        var batch = _dataSource.CreateBatch();
        await using (batch.ConfigureAwait(false))
        {
            batch.Timeout = _commandTimeout;
            batch.BatchCommands.Add(BatchCommand(_sql.Stage, queues, limits));
            if (locked.Length > 0)
            {
                batch.BatchCommands.Add(BatchCommand(_sql.LockLimitedQueues, _options.Schema, locked));
            }

            batch.BatchCommands.Add(BatchCommand(
                _sql.Claim, request.LeaseOwner, queues, limits, (long)request.LeaseDuration.TotalMilliseconds, locked,
                new NpgsqlParameter<long?> { TypedValue = maxBytes, NpgsqlDbType = NpgsqlDbType.Bigint }, takeFirst));
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                if (locked.Length > 0)
                {
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                }

                List<ClaimedJob>? claimed = null;
                TimeSpan? nextDueIn = null;
                string[] unlocked = [];
                string[] cut = [];
                long bytes = 0;
                var first = true;
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    // The same on every row.
                    if (first)
                    {
                        nextDueIn = reader.IsDBNull(12) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(12));
                        unlocked = reader.GetFieldValue<string[]>(13);
                        cut = reader.GetFieldValue<string[]>(14);
                        bytes = reader.GetInt64(15);
                        first = false;
                    }

                    if (!reader.IsDBNull(0))
                    {
                        (claimed ??= []).Add(ClaimedRow.Read(reader, request.LeaseOwner));
                    }
                }

                var result = claimed is null && nextDueIn is null && cut.Length == 0
                    ? ClaimResult.Empty
                    : new ClaimResult(claimed ?? (IReadOnlyList<ClaimedJob>)[], nextDueIn, cut);
                return (result, unlocked, bytes);
            }
        }
    }

    public Task<IReadOnlyList<Completion>> CompleteManyAsync(IReadOnlyList<Completion> completions, CancellationToken cancellationToken) =>
        CompleteManyAsync(completions, transaction: null, cancellationToken);

    /// <summary>Stores outcomes inside the caller's transaction when one is given, so that they commit or roll
    /// back with the caller's own writes.</summary>
    public async Task<IReadOnlyList<Completion>> CompleteManyAsync(IReadOnlyList<Completion> completions, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        if (transaction?.IsolationLevel is not (null or System.Data.IsolationLevel.ReadCommitted or System.Data.IsolationLevel.Unspecified))
        {
            // The lease keeper updates the job row while the handler runs; under REPEATABLE READ or SERIALIZABLE a
            // snapshot taken before that update could not update the row, and the handler's work would roll back.
            throw new InvalidOperationException(
                $"Completing a job inside a transaction needs READ COMMITTED; this transaction is {transaction.IsolationLevel}. Begin it with BeginTransactionAsync() or IsolationLevel.ReadCommitted.");
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var count = completions.Count;
        var (ids, owners, attempts, outcomes, results, errors, delays, rescues, logs) = CompletionParameters.From(completions);

        // A rescue pass skips jobs locked by a handler's open transaction instead of waiting for them.
        var sql = completions.All(c => c.Rescue) ? _sql.Rescue : _sql.Complete;
        var batch = Batch(
            transaction,
            BatchCommand(sql, ids, owners, attempts, outcomes, Jsonb(results), errors, delays, rescues, Jsonb(logs), Channel),
            BatchCommand(_sql.ResolveChildren, ids, Channel));
        await using (batch.ConfigureAwait(false))
        {
            var applied = new HashSet<long>();
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    applied.Add(reader.GetInt64(0));
                }
            }

            return applied.Count == count ? [] : completions.Where(c => !applied.Contains(c.Id.Value)).ToList();
        }
    }

    public async Task<LeaseRenewal> ExtendLeasesAsync(string leaseOwner, IReadOnlyList<LeaseRef> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var ids = new long[leases.Count];
        var attempts = new int[leases.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = leases[i].Id.Value;
            attempts[i] = leases[i].Attempt;
        }

        var command = Command(_sql.ExtendLeases, leaseOwner, ids, attempts, (long)leaseDuration.TotalMilliseconds);
        await using (command.ConfigureAwait(false))
        {
            var held = new HashSet<long>();
            List<JobId>? cancelRequested = null;
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    held.Add(reader.GetInt64(0));
                    if (reader.GetBoolean(1))
                    {
                        (cancelRequested ??= []).Add(new JobId(reader.GetInt64(0)));
                    }
                }
            }

            var lost = held.Count == ids.Length ? null : leases.Where(l => !held.Contains(l.Id.Value)).Select(l => l.Id).ToList();
            return lost is null && cancelRequested is null ? LeaseRenewal.None : new LeaseRenewal(lost ?? [], cancelRequested ?? []);
        }
    }

    /// <summary>Two round trips, which only a node that lost a claim's answer makes: the read of the leases, then their
    /// hand-back as fenced completions (complete.sql), which records, hints and resolves them like any other.</summary>
    public async Task<IReadOnlyList<JobId>> ReleaseLeasesAsync(string leaseOwner, IReadOnlyCollection<JobId> keep, string reason, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var kept = keep.Select(id => id.Value).ToArray();
        List<Completion>? releases = null;
        var command = Command(_sql.ListHeldLeases, leaseOwner, kept);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    (releases ??= []).Add(new Completion(new JobId(reader.GetInt64(0)), leaseOwner, reader.GetInt32(1), CompletionOutcome.Released, Error: reason));
                }
            }
        }

        if (releases is null)
        {
            return [];
        }

        var refused = await CompleteManyAsync(releases, cancellationToken).ConfigureAwait(false);
        return [.. releases.Except(refused).Select(c => c.Id)];
    }

    public async Task<DateTimeOffset> GetTimeAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.GetTime);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return reader.GetFieldValue<DateTimeOffset>(0);
            }
        }
    }

    public async Task<IReadOnlyList<ExpiredLease>> ListExpiredLeasesAsync(int limit, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.ListExpired, limit);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var expired = new List<ExpiredLease>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    expired.Add(new ExpiredLease(
                        new JobId(reader.GetInt64(0)), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4),
                        ReadBackoff(reader, 5), reader.GetString(8), reader.GetInt32(9)));
                }

                return expired;
            }
        }
    }

    public async Task<CancelResult> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var batch = Batch(null, BatchCommand(_sql.Cancel, id.Value, Channel), BatchCommand(_sql.ResolveChildren, new[] { id.Value }, Channel));
        await using (batch.ConfigureAwait(false))
        {
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return CancelResult.NotFound;
                }

                return reader.IsDBNull(1) ? CancelResult.AlreadyFinished
                    : reader.GetBoolean(1) ? CancelResult.CancellationRequested
                    : CancelResult.Cancelled;
            }
        }
    }

    public async Task<bool> RetryAsync(JobId id, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.Retry, id.Value, Channel);
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string;
        }
    }

    public async Task<JobInfo?> GetAsync(JobId id, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var jobs = await ReadJobsAsync(Command(_sql.GetJob, id.Value), cancellationToken).ConfigureAwait(false);
        return jobs.Count == 0 ? null : jobs[0];
    }

    public async Task<IReadOnlyList<JobInfo>> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.ListJobs, query.Before?.Value, query.State?.ToName(), query.Queue, query.Type, query.Tag, query.Limit);
        return await ReadJobsAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(JobId id, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.ListAttempts, id.Value);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var attempts = new List<JobAttempt>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    attempts.Add(new JobAttempt(
                        reader.GetInt32(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3),
                        ParseOutcome(reader.GetString(4)), reader.IsDBNull(5) ? null : reader.GetString(5))
                    {
                        Logs = reader.IsDBNull(6) ? [] : AttemptLogJson.Read(reader.GetString(6)),
                    });
                }

                return attempts;
            }
        }
    }

    public async Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.SetQueuePaused, queue, paused, Channel);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.ListQueues);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var queues = new List<QueueInfo>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    using var counts = JsonDocument.Parse(reader.GetString(2));
                    queues.Add(new QueueInfo
                    {
                        Name = reader.GetString(0),
                        IsPaused = reader.GetBoolean(1),
                        Concurrency = reader.IsDBNull(3) ? null : reader.GetInt32(3),
                        GlobalLimit = reader.IsDBNull(4) ? null : reader.GetInt32(4),
                        Counts = counts.RootElement.EnumerateObject().ToDictionary(p => ParseState(p.Name), p => p.Value.GetInt64()),
                    });
                }

                return queues;
            }
        }
    }

    public async Task<HeartbeatReply> HeartbeatAsync(NodeHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.Heartbeat, heartbeat.NodeId, heartbeat.Queues.ToArray(), heartbeat.Draining, heartbeat.Starting);
        await using (command.ConfigureAwait(false))
        {
            var drainRequested = false;
            var settings = new List<QueueSettings>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    drainRequested = reader.GetBoolean(0);
                    if (!reader.IsDBNull(1))
                    {
                        settings.Add(new QueueSettings(
                            reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3)));
                    }
                }
            }

            LearnGlobalLimits(heartbeat.Queues, settings);
            return new HeartbeatReply(drainRequested, settings);
        }
    }

    public async Task RemoveNodeAsync(string nodeId, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.RemoveNode, nodeId);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<NodeInfo>> ListNodesAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.ListNodes);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var nodes = new List<NodeInfo>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    nodes.Add(new NodeInfo
                    {
                        Id = reader.GetString(0),
                        Queues = reader.GetFieldValue<string[]>(1),
                        StartedAt = reader.GetFieldValue<DateTimeOffset>(2),
                        HeartbeatAt = reader.GetFieldValue<DateTimeOffset>(3),
                        IsDraining = reader.GetBoolean(4),
                        IsLeader = reader.GetBoolean(5),
                    });
                }

                return nodes;
            }
        }
    }

    public async Task<bool> RequestDrainAsync(string nodeId, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.RequestDrain, nodeId);
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string;
        }
    }

    public async Task<bool> TryLeadAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.TryLead, name, holder, (long)duration.TotalMilliseconds);
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string;
        }
    }

    public async Task ResignAsync(string name, string holder, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.Resign, name, holder);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<int> PruneAsync(TimeSpan succeededAge, TimeSpan failedAge, TimeSpan silentNodeAge, int limit, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.Prune, (long)succeededAge.TotalMilliseconds, (long)failedAge.TotalMilliseconds, limit, (long)silentNodeAge.TotalMilliseconds);
        await using (command.ConfigureAwait(false))
        {
            return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public Task<IDisposable> SubscribeAsync(IJobStoreListener listener, CancellationToken cancellationToken) =>
        _options.PollOnly ? Task.FromResult<IDisposable>(NoSubscription.Instance) : _notifier.SubscribeAsync(Channel, listener, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _notifier.DisposeAsync().ConfigureAwait(false);
        _initializing.Dispose();
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static AttemptOutcome ParseOutcome(string outcome) => outcome switch
    {
        "succeeded" => AttemptOutcome.Succeeded,
        "cancelled" => AttemptOutcome.Cancelled,
        "interrupted" => AttemptOutcome.Interrupted,
        "lease_expired" => AttemptOutcome.LeaseExpired,
        _ => AttemptOutcome.Failed,
    };

    private static JobState ParseState(string state) => state switch
    {
        "scheduled" => JobState.Scheduled,
        "available" => JobState.Available,
        "running" => JobState.Running,
        "retrying" => JobState.Retrying,
        "waiting" => JobState.Waiting,
        "succeeded" => JobState.Succeeded,
        "dead" => JobState.Dead,
        "cancelled" => JobState.Cancelled,
        _ => throw new InvalidOperationException($"Unknown job state '{state}' in the database."),
    };

    internal static RetryBackoff? ReadBackoff(NpgsqlDataReader reader, int first) =>
        reader.IsDBNull(first)
            ? null
            : new RetryBackoff
            {
                InitialDelay = TimeSpan.FromMilliseconds(reader.GetInt64(first)),
                MaxDelay = TimeSpan.FromMilliseconds(reader.GetInt64(first + 1)),
                Jitter = reader.GetDouble(first + 2),
            };

    internal static NpgsqlParameter Jsonb(string?[]? values) =>
        new() { Value = values ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb };

    private NpgsqlCommand Command(string sql, params object?[] parameters) => Command(null, sql, parameters);

    /// <summary>A command on its own pooled connection, or on the caller's transaction when one is given.</summary>
    private NpgsqlCommand Command(NpgsqlTransaction? transaction, string sql, params object?[] parameters)
    {
        var command = transaction is null ? _dataSource.CreateCommand(sql) : new NpgsqlCommand(sql, transaction.Connection, transaction);
        command.CommandTimeout = _commandTimeout;
        Bind(command.Parameters, parameters);
        return command;
    }

    /// <summary>Statements sent in one round trip and run in one transaction: the caller's, when one is given.</summary>
    private NpgsqlBatch Batch(NpgsqlTransaction? transaction, params NpgsqlBatchCommand[] commands)
    {
        var batch = transaction is null ? _dataSource.CreateBatch() : new NpgsqlBatch(transaction.Connection, transaction);
        batch.Timeout = _commandTimeout;
        foreach (var command in commands)
        {
            batch.BatchCommands.Add(command);
        }

        return batch;
    }

    private static NpgsqlBatchCommand BatchCommand(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        Bind(command.Parameters, parameters);
        return command;
    }

    private static void Bind(NpgsqlParameterCollection collection, object?[] parameters)
    {
        foreach (var parameter in parameters)
        {
            collection.Add(parameter as NpgsqlParameter ?? new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        }
    }

    private static async Task<IReadOnlyList<JobInfo>> ReadJobsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var jobs = new List<JobInfo>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    jobs.Add(new JobInfo
                    {
                        Id = new JobId(reader.GetInt64(0)),
                        Type = reader.GetString(1),
                        Queue = reader.GetString(2),
                        State = ParseState(reader.GetString(3)),
                        Priority = reader.GetInt16(4),
                        Attempt = reader.GetInt32(5),
                        MaxRetries = reader.GetInt32(6),
                        CreatedAt = reader.GetFieldValue<DateTimeOffset>(7),
                        RunAt = reader.GetFieldValue<DateTimeOffset>(8),
                        AttemptedAt = reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9),
                        FinishedAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
                        Node = reader.IsDBNull(11) ? null : reader.GetString(11),
                        Payload = reader.GetString(12),
                        Result = reader.IsDBNull(13) ? null : reader.GetString(13),
                        LastError = reader.IsDBNull(14) ? null : reader.GetString(14),
                        IdempotencyKey = reader.IsDBNull(15) ? null : reader.GetString(15),
                        Tags = reader.GetFieldValue<string[]>(16),
                        Batch = reader.IsDBNull(17) ? null : new BatchId(reader.GetGuid(17)),
                        DependsOn = ToJobIds(reader.GetFieldValue<long[]>(18)),
                    });
                }

                return jobs;
            }
        }
    }

    private static JobId[] ToJobIds(long[] ids)
    {
        if (ids.Length == 0)
        {
            return [];
        }

        var jobIds = new JobId[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            jobIds[i] = new JobId(ids[i]);
        }

        return jobIds;
    }

    private async Task<Dictionary<string, long>> ExistingKeysAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string[] keys, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand(_sql.ExistingKeys, connection, transaction) { CommandTimeout = _commandTimeout };
        await using (command.ConfigureAwait(false))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = keys });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var existing = new Dictionary<string, long>(StringComparer.Ordinal);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    existing[reader.GetString(0)] = reader.GetInt64(1);
                }

                return existing;
            }
        }
    }

    private sealed class NoSubscription : IDisposable
    {
        public static readonly NoSubscription Instance = new();

        public void Dispose()
        {
        }
    }
}
