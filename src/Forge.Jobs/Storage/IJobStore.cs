namespace Forge.Jobs.Storage;

/// <summary>The one contract the engine talks to. Every store passes the same conformance suite, so the
/// in-memory and PostgreSQL stores cannot drift apart. All times are taken from the store's own clock
/// (the database clock for a shared store), never from the calling node.</summary>
internal partial interface IJobStore
{
    /// <summary>Readies the store (the PostgreSQL store creates or checks its schema). Idempotent; every other
    /// operation calls it first, and the node calls it at start-up so that a bad connection fails the start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Now, on the store's clock (the database's for a shared store). A node reads it where it must compare
    /// an instant with other nodes and the store cannot do the comparison itself: cron occurrences.</summary>
    Task<DateTimeOffset> GetTimeAsync(CancellationToken cancellationToken);

    /// <summary>Stores jobs in one round trip. A job whose idempotency key is already stored (or appears earlier
    /// in the same call) is not stored again; its entry points at the stored job.</summary>
    /// <exception cref="QueueFullException">A bounded queue would pass its <see cref="NewJob.MaxLength"/>; nothing was stored.</exception>
    Task<IReadOnlyList<InsertedJob>> InsertManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken);

    /// <summary>Claims due jobs in one round trip: per queue up to its limit, highest priority first, then by
    /// run-at, then by insertion. Each claimed job becomes running with attempt + 1 and a lease held by
    /// <see cref="ClaimRequest.LeaseOwner"/> until now + <see cref="ClaimRequest.LeaseDuration"/>. Paused queues give
    /// nothing, and a queue with a global limit gives no more than the limit minus its running jobs on every node.
    /// When a queue gets fewer jobs than its limit, the result says how long until its next scheduled or retrying
    /// job is due. With <see cref="ClaimRequest.MaxBytes"/>, the claim takes the due jobs of all the queues in that same
    /// order only while their payload sizes (<see cref="NewJob.PayloadBytes"/>) add up to no more than it, but always at
    /// least one; the result names the queues it cut short (<see cref="ClaimResult.Cut"/>), and those left stay available.</summary>
    Task<ClaimResult> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken);

    /// <summary>Stores many outcomes in one round trip. Each applies only while the job is running under the
    /// same lease owner and attempt (and, for a rescue, only once that lease has expired): a stale worker can
    /// never overwrite a newer attempt. A job whose cancellation was asked for while it ran ends cancelled
    /// whatever its outcome, unless it succeeded.</summary>
    /// <returns>The completions that were refused by that fence.</returns>
    Task<IReadOnlyList<Completion>> CompleteManyAsync(IReadOnlyList<Completion> completions, CancellationToken cancellationToken);

    /// <summary>Hands back every running job whose lease <paramref name="leaseOwner"/> holds, except those in
    /// <paramref name="keep"/>: it is stored as a <see cref="CompletionOutcome.Released"/> completion of its attempt with
    /// <paramref name="reason"/> as its error, so it is available again at once (or cancelled, if that was asked for), its
    /// attempt is recorded as interrupted and not counted as a failure, and its queue is hinted. For a node that holds
    /// leases it does not know of: a claim committed but its answer never reached the node. Each hand-back is fenced
    /// like any completion, so a job claimed again or rescued meanwhile is left alone.</summary>
    /// <returns>The jobs handed back.</returns>
    Task<IReadOnlyList<JobId>> ReleaseLeasesAsync(string leaseOwner, IReadOnlyCollection<JobId> keep, string reason, CancellationToken cancellationToken);

    /// <summary>Extends the leases of running jobs still held by <paramref name="leaseOwner"/> at the given attempts.</summary>
    Task<LeaseRenewal> ExtendLeasesAsync(string leaseOwner, IReadOnlyList<LeaseRef> leases, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Running jobs whose lease has expired, oldest expiry first.</summary>
    Task<IReadOnlyList<ExpiredLease>> ListExpiredLeasesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Cancels a job that has not started, or asks the node that runs it to cancel it.</summary>
    Task<CancelResult> CancelAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Makes a dead or cancelled job available for one more attempt.</summary>
    Task<bool> RetryAsync(JobId id, CancellationToken cancellationToken);

    Task<JobInfo?> GetAsync(JobId id, CancellationToken cancellationToken);

    Task<IReadOnlyList<JobInfo>> ListAsync(JobQuery query, CancellationToken cancellationToken);

    Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(JobId id, CancellationToken cancellationToken);

    /// <summary>Records that a node is alive, creating its row on the first beat.</summary>
    /// <returns>Whether a drain of this node has been requested, and the stored settings of its queues.</returns>
    Task<HeartbeatReply> HeartbeatAsync(NodeHeartbeat heartbeat, CancellationToken cancellationToken);

    /// <summary>Forgets a node that stopped, and releases the leases it held.</summary>
    Task RemoveNodeAsync(string nodeId, CancellationToken cancellationToken);

    Task<IReadOnlyList<NodeInfo>> ListNodesAsync(CancellationToken cancellationToken);

    /// <summary>Asks a node to drain; it hears of it at its next heartbeat.</summary>
    /// <returns><see langword="false"/> when no such node is known.</returns>
    Task<bool> RequestDrainAsync(string nodeId, CancellationToken cancellationToken);

    /// <summary>Takes the named lease if it is free or expired, or renews it for <paramref name="holder"/>.</summary>
    /// <returns>Whether <paramref name="holder"/> now holds it.</returns>
    Task<bool> TryLeadAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken);

    Task ResignAsync(string name, string holder, CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="limit"/> finished jobs past their retention, with their history, and
    /// nodes silent for longer than <paramref name="silentNodeAge"/>.</summary>
    /// <returns>How many jobs were deleted.</returns>
    Task<int> PruneAsync(TimeSpan succeededAge, TimeSpan failedAge, TimeSpan silentNodeAge, int limit, CancellationToken cancellationToken);

    /// <summary>Pauses or resumes a queue for every node: claims skip a paused queue.</summary>
    Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken);

    /// <summary>Every queue that has jobs or a stored state, by name.</summary>
    Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken);

    /// <summary>Registers a listener for hints that jobs became available or a running job was cancelled.
    /// Hints may be lost; the engine polls as a backstop. Completes once hints can arrive (or the first attempt
    /// to listen has failed, after which the store keeps trying).</summary>
    Task<IDisposable> SubscribeAsync(IJobStoreListener listener, CancellationToken cancellationToken);
}

/// <summary>Hints from the store. Called off the store's locks; implementations return quickly.</summary>
internal interface IJobStoreListener
{
    /// <param name="queue">The queue, or an empty string when any queue may have new jobs.</param>
    void OnJobsAvailable(string queue);

    /// <summary>Jobs were stored in <paramref name="queue"/> to run later; the earliest is due in <paramref name="dueIn"/>,
    /// measured on the store's clock when it was stored.</summary>
    void OnJobsScheduled(string queue, TimeSpan dueIn);

    void OnCancelRequested(JobId id);
}
