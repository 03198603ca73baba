namespace Forge.Jobs.Storage.InMemory;

/// <summary>A store in process memory with the same semantics as the durable store: for development, samples
/// and tests. Nothing survives the process. One lock guards everything: simple to prove correct, and fast
/// enough for a single process because every operation is a few dictionary and sorted-set steps.</summary>
internal sealed partial class InMemoryJobStore(TimeProvider time) : IJobStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, StoredJob> _jobs = [];
    private readonly Dictionary<string, StoredJob> _byIdempotencyKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueIndex> _queues = new(StringComparer.Ordinal);
    private readonly HashSet<StoredJob> _running = [];
    private readonly List<IJobStoreListener> _listeners = [];
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Holder, DateTimeOffset ExpiresAt)> _leases = new(StringComparer.Ordinal);
    private long _lastId;

    public Task<IReadOnlyList<InsertedJob>> InsertManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        InsertedJob[] inserted;
        HashSet<string>? availableQueues;
        Dictionary<string, TimeSpan>? scheduledQueues;
        lock (_lock)
        {
            (inserted, availableQueues, scheduledQueues) = InsertLocked(jobs);
        }

        NotifyAvailable(availableQueues);
        NotifyScheduled(scheduledQueues);
        return Task.FromResult<IReadOnlyList<InsertedJob>>(inserted);
    }

    /// <summary>Stores jobs under <see cref="_lock"/>, all or nothing. The caller hints the returned queues once it
    /// has left the lock.</summary>
    private (InsertedJob[] Inserted, HashSet<string>? AvailableQueues, Dictionary<string, TimeSpan>? ScheduledQueues) InsertLocked(IReadOnlyList<NewJob> jobs)
    {
        var inserted = new InsertedJob[jobs.Count];
        HashSet<string>? availableQueues = null;
        Dictionary<string, TimeSpan>? scheduledQueues = null;

        // Everything that can throw happens before the first row is stored: a call stores all or nothing.
        var now = time.GetUtcNow();
        var runAts = jobs.Select(job => job.RunAt ?? now + job.Delay).ToArray();
        ThrowIfAnyQueueWouldOverflow(jobs);
        ThrowIfAnyParentIsMissing(jobs);
        var stored = new StoredJob?[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (job.IdempotencyKey is { } key && _byIdempotencyKey.TryGetValue(key, out var existing))
            {
                inserted[i] = new InsertedJob(new JobId(existing.Id), Existed: true);
                continue;
            }

            var runAt = runAts[i];
            var row = stored[i] = new StoredJob
            {
                Id = ++_lastId,
                Type = job.Type,
                Queue = job.Queue,
                Payload = job.Payload,
                PayloadBytes = job.PayloadBytes,
                Priority = job.Priority,
                Timeout = job.Timeout,
                CreatedAt = now,
                Tags = job.Tags,
                IdempotencyKey = job.IdempotencyKey,
                Backoff = job.Backoff,
                MaxRetries = job.MaxRetries,
                RunAt = runAt,
                Batch = job.Batch,
                TraceParent = job.TraceParent,
                TraceState = job.TraceState,
                State = job.DependsOn is { Count: > 0 } ? JobState.Waiting : runAt > now ? JobState.Scheduled : JobState.Available,
            };
            _jobs.Add(row.Id, row);
            if (row.IdempotencyKey is not null)
            {
                _byIdempotencyKey.Add(row.IdempotencyKey, row);
            }

            inserted[i] = new InsertedJob(new JobId(row.Id), Existed: false);
        }

        Link(jobs, stored, now);
        foreach (var job in stored)
        {
            if (job is { State: JobState.Available or JobState.Scheduled })
            {
                QueueOf(job.Queue).Add(job);
                if (job.State == JobState.Available)
                {
                    (availableQueues ??= new(StringComparer.Ordinal)).Add(job.Queue);
                }
                else
                {
                    EarliestDue(scheduledQueues ??= new(StringComparer.Ordinal), job.Queue, job.RunAt - now);
                }
            }
        }

        return (inserted, availableQueues, scheduledQueues);
    }

    public Task<ClaimResult> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            List<StoredJob>? candidates = null;
            var queuesWithCandidates = 0;
            foreach (var (queueName, limit) in request.Queues)
            {
                if (limit <= 0 || _paused.Contains(queueName) || !_queues.TryGetValue(queueName, out var queue))
                {
                    continue;
                }

                queue.PromoteDue(now);
                var room = RoomIn(queueName, limit);
                var before = candidates?.Count ?? 0;
                for (var taken = 0; taken < room && queue.TakeNext() is { } job; taken++)
                {
                    (candidates ??= []).Add(job);
                }

                queuesWithCandidates += (candidates?.Count ?? 0) > before ? 1 : 0;
            }

            List<string>? cut = null;
            if (candidates is not null && request.MaxBytes is { } budget)
            {
                if (queuesWithCandidates > 1)
                {
                    candidates.Sort(QueueIndex.ClaimOrder);
                }

                cut = CutToBudget(candidates, budget);
            }

            List<ClaimedJob>? claimed = null;
            foreach (var job in candidates ?? [])
            {
                job.State = JobState.Running;
                job.Attempt++;
                job.AttemptedAt = now;
                job.LeaseOwner = request.LeaseOwner;
                job.LeaseUntil = now + request.LeaseDuration;
                _running.Add(job);
                (claimed ??= []).Add(new ClaimedJob(
                    new JobId(job.Id), job.Type, job.Queue, job.Priority, job.Attempt, job.MaxRetries,
                    job.Timeout, job.Payload, job.Backoff, request.LeaseOwner, job.Failures, now - job.RunAt, job.TraceParent, job.TraceState));
            }

            DateTimeOffset? nextDue = null;
            foreach (var (queueName, limit) in request.Queues)
            {
                if (limit > 0 && !_paused.Contains(queueName) && _queues.TryGetValue(queueName, out var queue)
                    && queue.NextRunAt is { } runAt && (nextDue is null || runAt < nextDue)
                    && (claimed?.Count(job => job.Queue == queueName) ?? 0) < limit)
                {
                    nextDue = runAt;
                }
            }

            return Task.FromResult(claimed is null && nextDue is null && cut is null
                ? ClaimResult.Empty
                : new ClaimResult(claimed ?? (IReadOnlyList<ClaimedJob>)[], nextDue - now, cut));
        }
    }

    /// <summary>Keeps the candidates, in claim order, whose payloads add up to no more than <paramref name="budget"/>
    /// (the first whatever its size) and puts the rest back in their queues.</summary>
    /// <returns>The queues of the candidates put back, or null when all fit.</returns>
    private List<string>? CutToBudget(List<StoredJob> candidates, long budget)
    {
        var kept = 0;
        var total = 0L;
        while (kept < candidates.Count && (kept == 0 || total + candidates[kept].PayloadBytes <= budget))
        {
            total += candidates[kept++].PayloadBytes;
        }

        if (kept == candidates.Count)
        {
            return null;
        }

        var cut = new List<string>();
        for (var i = kept; i < candidates.Count; i++)
        {
            var job = candidates[i];
            QueueOf(job.Queue).Add(job);
            if (!cut.Contains(job.Queue))
            {
                cut.Add(job.Queue);
            }
        }

        candidates.RemoveRange(kept, candidates.Count - kept);
        return cut;
    }

    public Task<IReadOnlyList<Completion>> CompleteManyAsync(IReadOnlyList<Completion> completions, CancellationToken cancellationToken)
    {
        List<Completion>? refused = null;
        HashSet<string>? availableQueues = null;
        lock (_lock)
        {
            var now = time.GetUtcNow();
            foreach (var completion in completions)
            {
                if (!_jobs.TryGetValue(completion.Id.Value, out var job) || !Holds(job, completion, now))
                {
                    (refused ??= []).Add(completion);
                    continue;
                }

                Apply(job, completion, now);
                if (job.State == JobState.Available)
                {
                    (availableQueues ??= new(StringComparer.Ordinal)).Add(job.Queue);
                }
                else if (job.State.IsTerminal())
                {
                    ResolveChildren(job, now, ref availableQueues);
                }
            }
        }

        NotifyAvailable(availableQueues);
        return Task.FromResult<IReadOnlyList<Completion>>(refused ?? (IReadOnlyList<Completion>)[]);
    }

    public Task<LeaseRenewal> ExtendLeasesAsync(string leaseOwner, IReadOnlyList<LeaseRef> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        List<JobId>? lost = null;
        List<JobId>? cancelRequested = null;
        lock (_lock)
        {
            var until = time.GetUtcNow() + leaseDuration;
            foreach (var lease in leases)
            {
                if (_jobs.TryGetValue(lease.Id.Value, out var job)
                    && job.State == JobState.Running
                    && job.LeaseOwner == leaseOwner
                    && job.Attempt == lease.Attempt)
                {
                    job.LeaseUntil = until;
                    if (job.CancelRequested)
                    {
                        (cancelRequested ??= []).Add(lease.Id);
                    }
                }
                else
                {
                    (lost ??= []).Add(lease.Id);
                }
            }
        }

        return Task.FromResult(lost is null && cancelRequested is null
            ? LeaseRenewal.None
            : new LeaseRenewal(lost ?? [], cancelRequested ?? []));
    }

    public async Task<IReadOnlyList<JobId>> ReleaseLeasesAsync(string leaseOwner, IReadOnlyCollection<JobId> keep, string reason, CancellationToken cancellationToken)
    {
        var kept = keep.ToHashSet();
        List<Completion> releases;
        lock (_lock)
        {
            releases = [.. _running
                .Where(job => job.LeaseOwner == leaseOwner && !kept.Contains(new JobId(job.Id)))
                .OrderBy(job => job.Id)
                .Select(job => new Completion(new JobId(job.Id), leaseOwner, job.Attempt, CompletionOutcome.Released, Error: reason))];
        }

        if (releases.Count == 0)
        {
            return [];
        }

        // Fenced like any completion, as in the durable store, where the read and the hand-back are two steps.
        var refused = await CompleteManyAsync(releases, cancellationToken).ConfigureAwait(false);
        return [.. releases.Except(refused).Select(c => c.Id)];
    }

    public Task<DateTimeOffset> GetTimeAsync(CancellationToken cancellationToken) => Task.FromResult(time.GetUtcNow());

    public Task<IReadOnlyList<ExpiredLease>> ListExpiredLeasesAsync(int limit, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            IReadOnlyList<ExpiredLease> expired = _running
                .Where(job => job.LeaseUntil <= now)
                .OrderBy(job => job.LeaseUntil)
                .Take(limit)
                .Select(job => new ExpiredLease(new JobId(job.Id), job.Type, job.Queue, job.Attempt, job.MaxRetries, job.Backoff, job.LeaseOwner!, job.Failures))
                .ToList();
            return Task.FromResult(expired);
        }
    }

    public Task<CancelResult> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        CancelResult result;
        HashSet<string>? availableQueues = null;
        lock (_lock)
        {
            if (!_jobs.TryGetValue(id.Value, out var job))
            {
                result = CancelResult.NotFound;
            }
            else if (job.State.IsTerminal())
            {
                result = CancelResult.AlreadyFinished;
            }
            else if (job.State == JobState.Running)
            {
                job.CancelRequested = true;
                result = CancelResult.CancellationRequested;
            }
            else
            {
                QueueOf(job.Queue).Remove(job);
                job.State = JobState.Cancelled;
                job.FinishedAt = time.GetUtcNow();
                ResolveChildren(job, job.FinishedAt.Value, ref availableQueues);
                result = CancelResult.Cancelled;
            }
        }

        NotifyAvailable(availableQueues);

        if (result == CancelResult.CancellationRequested)
        {
            foreach (var listener in Listeners())
            {
                listener.OnCancelRequested(id);
            }
        }

        return Task.FromResult(result);
    }

    public Task<bool> RetryAsync(JobId id, CancellationToken cancellationToken)
    {
        string? queue = null;
        lock (_lock)
        {
            if (_jobs.TryGetValue(id.Value, out var job) && job.State is JobState.Dead or JobState.Cancelled)
            {
                job.State = JobState.Available;
                job.RunAt = time.GetUtcNow();
                job.FinishedAt = null;
                job.MaxRetries = Math.Max(job.MaxRetries, job.Failures);
                QueueOf(job.Queue).Add(job);
                queue = job.Queue;
            }
        }

        if (queue is null)
        {
            return Task.FromResult(false);
        }

        NotifyAvailable([queue]);
        return Task.FromResult(true);
    }

    public Task<JobInfo?> GetAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            PromoteDue();
            return Task.FromResult(_jobs.GetValueOrDefault(id.Value)?.ToInfo());
        }
    }

    public Task<IReadOnlyList<JobInfo>> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            PromoteDue();
            var before = query.Before?.Value ?? long.MaxValue;
            IReadOnlyList<JobInfo> page = _jobs.Values
                .Where(job => job.Id < before
                    && (query.State is null || job.State == query.State)
                    && (query.Queue is null || job.Queue == query.Queue)
                    && (query.Type is null || job.Type == query.Type)
                    && (query.Tag is null || job.Tags.Contains(query.Tag)))
                .OrderByDescending(job => job.Id)
                .Take(query.Limit)
                .Select(job => job.ToInfo())
                .ToList();
            return Task.FromResult(page);
        }
    }

    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<JobAttempt> attempts = _jobs.TryGetValue(id.Value, out var job) ? job.Attempts.ToArray() : [];
            return Task.FromResult(attempts);
        }
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (paused)
            {
                _paused.Add(queue);
            }
            else
            {
                _paused.Remove(queue);
            }
        }

        if (!paused)
        {
            NotifyAvailable([queue]);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            PromoteDue();
            var counts = _jobs.Values
                .GroupBy(j => j.Queue, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<JobState, long>)g.GroupBy(j => j.State).ToDictionary(s => s.Key, s => (long)s.Count()), StringComparer.Ordinal);
            IReadOnlyList<QueueInfo> queues = counts.Keys.Union(_paused).Union(_queueSettings.Keys)
                .Order(StringComparer.Ordinal)
                .Select(name => new QueueInfo
                {
                    Name = name,
                    IsPaused = _paused.Contains(name),
                    Concurrency = _queueSettings.GetValueOrDefault(name)?.Concurrency,
                    GlobalLimit = _queueSettings.GetValueOrDefault(name)?.GlobalLimit,
                    Counts = counts.GetValueOrDefault(name) ?? new Dictionary<JobState, long>(),
                })
                .ToList();
            return Task.FromResult(queues);
        }
    }

    public Task<HeartbeatReply> HeartbeatAsync(NodeHeartbeat heartbeat, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (heartbeat.Starting || !_nodes.TryGetValue(heartbeat.NodeId, out var node))
            {
                node = new StoredNode { StartedAt = now };
                _nodes[heartbeat.NodeId] = node;
            }

            node.Queues = [.. heartbeat.Queues];
            node.HeartbeatAt = now;
            node.Draining = heartbeat.Draining;
            return Task.FromResult(new HeartbeatReply(node.DrainRequested, SettingsOf(heartbeat.Queues)));
        }
    }

    public Task RemoveNodeAsync(string nodeId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _nodes.Remove(nodeId);
            foreach (var name in _leases.Where(l => l.Value.Holder == nodeId).Select(l => l.Key).ToList())
            {
                _leases.Remove(name);
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<NodeInfo>> ListNodesAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            var leader = _leases.TryGetValue(Forge.Jobs.Leadership.LeaderElection.LeaderLease, out var lease) && lease.ExpiresAt > now ? lease.Holder : null;
            IReadOnlyList<NodeInfo> nodes = _nodes
                .OrderBy(n => n.Value.StartedAt).ThenBy(n => n.Key, StringComparer.Ordinal)
                .Select(n => new NodeInfo
                {
                    Id = n.Key,
                    Queues = n.Value.Queues,
                    StartedAt = n.Value.StartedAt,
                    HeartbeatAt = n.Value.HeartbeatAt,
                    IsDraining = n.Value.Draining || n.Value.DrainRequested,
                    IsLeader = n.Key == leader,
                })
                .ToList();
            return Task.FromResult(nodes);
        }
    }

    public Task<bool> RequestDrainAsync(string nodeId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(nodeId, out var node))
            {
                return Task.FromResult(false);
            }

            node.DrainRequested = true;
            return Task.FromResult(true);
        }
    }

    public Task<bool> TryLeadAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (_leases.TryGetValue(name, out var lease) && lease.Holder != holder && lease.ExpiresAt > now)
            {
                return Task.FromResult(false);
            }

            _leases[name] = (holder, now + duration);
            return Task.FromResult(true);
        }
    }

    public Task ResignAsync(string name, string holder, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_leases.TryGetValue(name, out var lease) && lease.Holder == holder)
            {
                _leases.Remove(name);
            }
        }

        return Task.CompletedTask;
    }

    public Task<int> PruneAsync(TimeSpan succeededAge, TimeSpan failedAge, TimeSpan silentNodeAge, int limit, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            var doomed = _jobs.Values
                .Where(j => j.FinishedAt is { } finished
                    && ((j.State == JobState.Succeeded && finished < now - succeededAge)
                        || (j.State is JobState.Dead or JobState.Cancelled && finished < now - failedAge))
                    && !HasUnfinishedChildren(j))
                .Take(limit)
                .ToList();
            foreach (var job in doomed)
            {
                _jobs.Remove(job.Id);
                if (job.IdempotencyKey is not null)
                {
                    _byIdempotencyKey.Remove(job.IdempotencyKey);
                }
            }

            PruneBatches(now - succeededAge);
            foreach (var silent in _nodes.Where(n => n.Value.HeartbeatAt < now - silentNodeAge).Select(n => n.Key).ToList())
            {
                _nodes.Remove(silent);
            }

            return Task.FromResult(doomed.Count);
        }
    }

    public Task<IDisposable> SubscribeAsync(IJobStoreListener listener, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _listeners.Add(listener);
        }

        return Task.FromResult<IDisposable>(new Subscription(this, listener));
    }

    private void ThrowIfAnyQueueWouldOverflow(IReadOnlyList<NewJob> jobs)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var inserting = jobs.Where(j => j.IdempotencyKey is not { } key || (!_byIdempotencyKey.ContainsKey(key) && keys.Add(key)));
        foreach (var bounded in inserting.Where(j => j.MaxLength is not null).GroupBy(j => j.Queue, StringComparer.Ordinal))
        {
            var maxLength = bounded.Max(j => j.MaxLength!.Value);
            if (QueueOf(bounded.Key).Count + bounded.Count() > maxLength)
            {
                throw new QueueFullException(bounded.Key, maxLength);
            }
        }
    }

    private static bool Holds(StoredJob job, Completion completion, DateTimeOffset now) =>
        job.State == JobState.Running
        && job.LeaseOwner == completion.LeaseOwner
        && job.Attempt == completion.Attempt
        && (!completion.Rescue || job.LeaseUntil <= now);

    private void Apply(StoredJob job, Completion completion, DateTimeOffset now)
    {
        // A cancellation asked for while the attempt ran wins over any outcome but success.
        var outcome = job.CancelRequested && completion.Outcome is CompletionOutcome.Retry or CompletionOutcome.Dead or CompletionOutcome.Released
            ? CompletionOutcome.Cancelled
            : completion.Outcome;
        job.Attempts.Add(new JobAttempt(job.Attempt, job.LeaseOwner!, job.AttemptedAt!.Value, now, RecordedOutcome(completion, outcome), completion.Error)
        {
            Logs = completion.Logs ?? [],
        });
        _running.Remove(job);
        job.LeaseOwner = null;
        job.CancelRequested = false;
        if (completion.Error is not null)
        {
            job.LastError = completion.Error;
        }

        if (outcome is CompletionOutcome.Retry or CompletionOutcome.Dead)
        {
            job.Failures++;
        }

        switch (outcome)
        {
            case CompletionOutcome.Succeeded:
                job.State = JobState.Succeeded;
                job.Result = completion.Result;
                job.FinishedAt = now;
                break;
            case CompletionOutcome.Retry:
                job.State = JobState.Retrying;
                job.RunAt = now + completion.RetryDelay;
                QueueOf(job.Queue).Add(job);
                break;
            case CompletionOutcome.Dead:
                job.State = JobState.Dead;
                job.FinishedAt = now;
                break;
            case CompletionOutcome.Cancelled:
                job.State = JobState.Cancelled;
                job.FinishedAt = now;
                break;
            case CompletionOutcome.Released:
                job.State = JobState.Available;
                job.RunAt = now;
                QueueOf(job.Queue).Add(job);
                break;
        }
    }

    private static AttemptOutcome RecordedOutcome(Completion completion, CompletionOutcome outcome) => outcome switch
    {
        CompletionOutcome.Succeeded => AttemptOutcome.Succeeded,
        CompletionOutcome.Cancelled => AttemptOutcome.Cancelled,
        CompletionOutcome.Released => AttemptOutcome.Interrupted,
        _ when completion.Rescue => AttemptOutcome.LeaseExpired,
        _ => AttemptOutcome.Failed,
    };

    private QueueIndex QueueOf(string name)
    {
        if (!_queues.TryGetValue(name, out var queue))
        {
            queue = new QueueIndex();
            _queues.Add(name, queue);
        }

        return queue;
    }

    private void PromoteDue()
    {
        var now = time.GetUtcNow();
        foreach (var queue in _queues.Values)
        {
            queue.PromoteDue(now);
        }
    }

    private IJobStoreListener[] Listeners()
    {
        lock (_lock)
        {
            return [.. _listeners];
        }
    }

    private void NotifyAvailable(IEnumerable<string>? queues)
    {
        if (queues is null)
        {
            return;
        }

        var listeners = Listeners();
        foreach (var queue in queues)
        {
            foreach (var listener in listeners)
            {
                listener.OnJobsAvailable(queue);
            }
        }
    }

    private sealed class Subscription(InMemoryJobStore store, IJobStoreListener listener) : IDisposable
    {
        public void Dispose()
        {
            lock (store._lock)
            {
                store._listeners.Remove(listener);
            }
        }
    }
}
