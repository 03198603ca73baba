using Npgsql;

namespace Forge.Jobs;

/// <summary>Enqueues and inspects jobs. Registered by <c>AddForgeJobs</c>; safe to use from any thread.</summary>
public interface IJobClient
{
    /// <summary>Stores one job. Once this returns, the job is stored (durably, with a durable store).</summary>
    /// <returns>The new job's id, or the stored job's id when <see cref="JobOptions.IdempotencyKey"/> matched one.</returns>
    /// <exception cref="ArgumentException">An option is out of range, or the serialized payload is larger than
    /// <see cref="ForgeJobsOptions.MaxPayloadBytes"/>; the message says which and what to change. Nothing is stored.</exception>
    Task<JobId> EnqueueAsync<TJob>(TJob job, JobOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Stores many jobs of one type in one round trip, all with the same options
    /// (an <see cref="JobOptions.IdempotencyKey"/> is not allowed here: it would make them one job).</summary>
    /// <returns>The ids, in the order of <paramref name="jobs"/>.</returns>
    /// <exception cref="ArgumentException">An option is out of range, or a job's serialized payload is larger than
    /// <see cref="ForgeJobsOptions.MaxPayloadBytes"/>; no job of the call is stored.</exception>
    Task<IReadOnlyList<JobId>> EnqueueManyAsync<TJob>(IEnumerable<TJob> jobs, JobOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Stores one job inside the caller's PostgreSQL transaction: the job exists if and only if that
    /// transaction commits, and nodes hear of it at the commit. The transaction must be on the store's database.</summary>
    /// <inheritdoc cref="EnqueueAsync{TJob}(TJob, JobOptions?, CancellationToken)"/>
    /// <exception cref="InvalidOperationException">The store is not the PostgreSQL store.</exception>
    Task<JobId> EnqueueAsync<TJob>(TJob job, JobOptions? options, NpgsqlTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>Stores many jobs of one type inside the caller's PostgreSQL transaction, in one round trip.</summary>
    /// <inheritdoc cref="EnqueueManyAsync{TJob}(IEnumerable{TJob}, JobOptions?, CancellationToken)"/>
    /// <exception cref="InvalidOperationException">The store is not the PostgreSQL store.</exception>
    Task<IReadOnlyList<JobId>> EnqueueManyAsync<TJob>(IEnumerable<TJob> jobs, JobOptions? options, NpgsqlTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>Stores every step of <paramref name="workflow"/> in one round trip and one transaction: all of them
    /// or none. Steps wait for their parents (see <see cref="JobDependency"/>).</summary>
    /// <returns>Each step's job id, by step name.</returns>
    /// <exception cref="ArgumentException">The workflow is empty, a step names an unknown step or a job that is
    /// not stored, the steps form a cycle (the message names it), an option is out of range, or a step's payload is
    /// larger than <see cref="ForgeJobsOptions.MaxPayloadBytes"/>.</exception>
    Task<IReadOnlyDictionary<string, JobId>> EnqueueWorkflowAsync(Workflow workflow, CancellationToken cancellationToken = default);

    /// <summary>Stores every step of <paramref name="workflow"/> inside the caller's PostgreSQL transaction.</summary>
    /// <inheritdoc cref="EnqueueWorkflowAsync(Workflow, CancellationToken)"/>
    /// <exception cref="InvalidOperationException">The store is not the PostgreSQL store.</exception>
    Task<IReadOnlyDictionary<string, JobId>> EnqueueWorkflowAsync(Workflow workflow, NpgsqlTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>Stores every job of <paramref name="batch"/>, and its callback, in one round trip and one
    /// transaction, under a new <see cref="BatchId"/>.</summary>
    /// <exception cref="ArgumentException">The batch is empty, an option is out of range, or a job's payload is larger
    /// than <see cref="ForgeJobsOptions.MaxPayloadBytes"/>.</exception>
    Task<BatchId> EnqueueBatchAsync(JobBatch batch, CancellationToken cancellationToken = default);

    /// <summary>Stores every job of <paramref name="batch"/> inside the caller's PostgreSQL transaction.</summary>
    /// <inheritdoc cref="EnqueueBatchAsync(JobBatch, CancellationToken)"/>
    /// <exception cref="InvalidOperationException">The store is not the PostgreSQL store.</exception>
    Task<BatchId> EnqueueBatchAsync(JobBatch batch, NpgsqlTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>The batch with this id, with its jobs counted by state, or <see langword="null"/> when there is none.</summary>
    Task<BatchInfo?> GetBatchAsync(BatchId id, CancellationToken cancellationToken = default);

    /// <summary>The job with this id, or <see langword="null"/> when there is none.</summary>
    Task<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>Jobs that match <paramref name="query"/>, newest first.</summary>
    /// <exception cref="ArgumentException">The limit is not 1 to 1,000, or a filter is not a valid queue name, job type
    /// name or tag; the message quotes it and states the rule.</exception>
    Task<IReadOnlyList<JobInfo>> ListJobsAsync(JobQuery query, CancellationToken cancellationToken = default);

    /// <summary>The finished attempts of a job, oldest first.</summary>
    Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>The result that a succeeded job's handler returned.</summary>
    /// <exception cref="InvalidOperationException">The job does not exist, has not succeeded, or returned no result.</exception>
    Task<TResult?> GetResultAsync<TResult>(JobId id, CancellationToken cancellationToken = default);

    /// <summary>Cancels a job that has not finished. A running job has its cancellation token fired.</summary>
    Task<CancelResult> CancelAsync(JobId id, CancellationToken cancellationToken = default);

    /// <summary>Pauses a queue on every node: nodes finish the jobs of it they run, and claim no more until it is
    /// resumed. Enqueueing to a paused queue still works. The pause is stored, so it outlives restarts.</summary>
    /// <exception cref="ArgumentException">The queue name is not valid; the message quotes it and states the rule.</exception>
    Task PauseQueueAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused queue on every node.</summary>
    /// <exception cref="ArgumentException">The queue name is not valid; the message quotes it and states the rule.</exception>
    Task ResumeQueueAsync(string queue, CancellationToken cancellationToken = default);

    /// <summary>Every queue that has jobs, is paused, or has a stored concurrency or global limit, with its jobs counted
    /// by state. Counting reads every stored job, so call it for dashboards and operations, not per request.</summary>
    Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken = default);

    /// <summary>Sets how many jobs of a queue each node runs at once, replacing every node's configured
    /// <see cref="QueueOptions.Concurrency"/>; <see langword="null"/> returns each node to its configured value. The
    /// setting is stored, so it outlives restarts. This process's node applies it at once; other nodes apply it at
    /// their next heartbeat (within <see cref="ForgeJobsOptions.LeaseRenewInterval"/>). When it falls, running jobs
    /// finish and no new ones start until fewer than the new value run.</summary>
    /// <exception cref="ArgumentException">The queue name is not valid, or <paramref name="concurrency"/> is not 1 to 10,000.</exception>
    Task SetQueueConcurrencyAsync(string queue, int? concurrency, CancellationToken cancellationToken = default);

    /// <summary>Caps how many jobs of a queue run at once across all nodes together; <see langword="null"/> removes
    /// the cap. The cap is stored and enforced by every claim, so it is exact: nodes never run more jobs of the queue
    /// than the cap, whatever their own concurrency. Lowering it below the jobs running now lets them finish.</summary>
    /// <exception cref="ArgumentException">The queue name is not valid, or <paramref name="limit"/> is not 1 to 1,000,000.</exception>
    Task SetQueueGlobalLimitAsync(string queue, int? limit, CancellationToken cancellationToken = default);

    /// <summary>The nodes of the cluster, as their heartbeats last reported them.</summary>
    Task<IReadOnlyList<NodeInfo>> ListNodesAsync(CancellationToken cancellationToken = default);

    /// <summary>Asks a node, possibly in another process, to drain: it stops claiming jobs and finishes those it
    /// holds. The node hears of it at its next heartbeat (within <see cref="ForgeJobsOptions.LeaseRenewInterval"/>).</summary>
    /// <returns><see langword="false"/> when no node has that id.</returns>
    /// <exception cref="ArgumentException">The id is not a valid node id (see <see cref="ForgeJobsOptions.NodeId"/>).</exception>
    Task<bool> DrainNodeAsync(string nodeId, CancellationToken cancellationToken = default);

    /// <summary>Makes a <see cref="JobState.Dead"/> or <see cref="JobState.Cancelled"/> job available again
    /// for one more attempt (a failure of that attempt makes it dead again).</summary>
    /// <returns><see langword="false"/> when there is no such job or it is in another state.</returns>
    Task<bool> RetryAsync(JobId id, CancellationToken cancellationToken = default);

    // Cron schedules. Every method that takes a name rejects an invalid one with an ArgumentException that quotes it.

    /// <summary>Creates a cron schedule that enqueues <paramref name="job"/> at each occurrence of
    /// <paramref name="cronExpression"/>, or replaces the definition of the schedule with this name. It is stored, so
    /// it outlives restarts, and the leader of the cluster enqueues each occurrence exactly once. A new schedule starts
    /// from the first occurrence after now; an updated one keeps its pause, and keeps its next run unless the
    /// expression or time zone changed (then it starts again from the first occurrence after now).</summary>
    /// <param name="name">The schedule's unique name: 1 to 128 letters, digits, <c>_</c>, <c>-</c>, <c>.</c> or <c>:</c>.</param>
    /// <param name="cronExpression">Five fields (minute hour day-of-month month day-of-week), six fields with seconds
    /// first, or a macro such as <c>@daily</c>.</param>
    /// <param name="job">The payload of every job the schedule enqueues.</param>
    /// <param name="options">The time zone (UTC by default), the misfire policy and the jobs' options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The schedule as stored now.</returns>
    /// <exception cref="ArgumentException">The name, the expression or an option is not valid, or the job's payload is
    /// larger than <see cref="ForgeJobsOptions.MaxPayloadBytes"/>; the message quotes it.</exception>
    Task<ScheduleInfo> AddOrUpdateScheduleAsync<TJob>(string name, string cronExpression, TJob job, ScheduleOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Pauses a schedule for the whole cluster: it enqueues nothing until resumed, and the occurrences that
    /// fall meanwhile are never run. Jobs it already enqueued are not touched.</summary>
    /// <returns><see langword="false"/> when no schedule has that name.</returns>
    Task<bool> PauseScheduleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused schedule from its first occurrence after now. Resuming a schedule that is not paused
    /// changes nothing.</summary>
    /// <returns><see langword="false"/> when no schedule has that name.</returns>
    Task<bool> ResumeScheduleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a schedule. Jobs it already enqueued are not touched. A schedule registered in code with
    /// <c>AddRecurring</c> comes back when a node that registers it starts.</summary>
    /// <returns><see langword="false"/> when no schedule has that name.</returns>
    Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The schedule with this name, or <see langword="null"/> when there is none.</summary>
    Task<ScheduleInfo?> GetScheduleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every schedule, by name.</summary>
    Task<IReadOnlyList<ScheduleInfo>> ListSchedulesAsync(CancellationToken cancellationToken = default);

    /// <summary>The next <paramref name="count"/> occurrences of a schedule, with the offset of its time zone at each:
    /// from its next run (which may be due already), or for a paused schedule from now, as if it were resumed now.</summary>
    /// <param name="name">The schedule's name.</param>
    /// <param name="count">How many occurrences, 1 to 1,000.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="InvalidOperationException">No schedule has that name, or this node cannot read its expression or time zone.</exception>
    Task<IReadOnlyList<DateTimeOffset>> PreviewScheduleAsync(string name, int count, CancellationToken cancellationToken = default);
}
