using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Diagnostics;

/// <summary>Every log event of the engine, with stable event ids. Nothing is logged per job at Information or
/// above unless the job fails, is cancelled or is interrupted.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Forge.Jobs node {NodeId} started; queues: {Queues}")]
    public static partial void NodeStarted(ILogger logger, string nodeId, string queues);

    [LoggerMessage(2, LogLevel.Information, "Forge.Jobs node {NodeId} stopped")]
    public static partial void NodeStopped(ILogger logger, string nodeId);

    [LoggerMessage(3, LogLevel.Warning, "Forge.Jobs is using the in-memory store: jobs are lost when the process exits and are not shared with other processes")]
    public static partial void InMemoryStore(ILogger logger);

    [LoggerMessage(4, LogLevel.Information, "Forge.Jobs node {NodeId} is draining: it claims no new jobs and finishes the ones it holds")]
    public static partial void Draining(ILogger logger, string nodeId);

    [LoggerMessage(10, LogLevel.Debug, "Job {JobId} succeeded")]
    public static partial void JobSucceeded(ILogger logger, JobId jobId);

    [LoggerMessage(11, LogLevel.Warning, "Job {JobId} failed attempt {Attempt}; retrying in {Delay}")]
    public static partial void JobRetrying(ILogger logger, Exception exception, JobId jobId, int attempt, TimeSpan delay);

    [LoggerMessage(12, LogLevel.Error, "Job {JobId} failed attempt {Attempt}, its last; the job is dead")]
    public static partial void JobDead(ILogger logger, Exception exception, JobId jobId, int attempt);

    [LoggerMessage(13, LogLevel.Information, "Job {JobId} was cancelled while it ran")]
    public static partial void JobCancelled(ILogger logger, JobId jobId);

    [LoggerMessage(14, LogLevel.Warning, "Job {JobId} attempt {Attempt}: its outcome was not stored because the lease was lost (the job was rescued or finished elsewhere)")]
    public static partial void LeaseLost(ILogger logger, JobId jobId, int attempt);

    [LoggerMessage(15, LogLevel.Warning, "Job {JobId} attempt {Attempt}: the handler did not stop when its token fired; it is abandoned and its slot freed")]
    public static partial void HandlerAbandoned(ILogger logger, JobId jobId, int attempt);

    [LoggerMessage(16, LogLevel.Warning, "Job {JobId} attempt {Attempt} was interrupted by shutdown and handed back to its queue")]
    public static partial void JobReleased(ILogger logger, JobId jobId, int attempt);

    [LoggerMessage(17, LogLevel.Warning, "Job {JobId} attempt {Attempt} finished after its node stopped storing outcomes; the rescuer will retry it once its lease expires")]
    public static partial void OutcomeAfterShutdown(ILogger logger, JobId jobId, int attempt);

    [LoggerMessage(18, LogLevel.Critical, "Job {JobId} attempt {Attempt}: the executor failed; the rescuer will retry the job once its lease expires")]
    public static partial void ExecutorFailed(ILogger logger, Exception exception, JobId jobId, int attempt);

    [LoggerMessage(19, LogLevel.Warning, "Node {NodeId} handed back {Count} jobs that a claim took for it but whose answer never arrived; they run again, without counting a failed attempt")]
    public static partial void UnknownLeasesReleased(ILogger logger, int count, string nodeId);

    [LoggerMessage(20, LogLevel.Error, "Claiming jobs failed; retrying in {Delay}")]
    public static partial void ClaimFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(21, LogLevel.Error, "Storing {Count} job outcomes failed; retrying in {Delay}")]
    public static partial void CompleteFailed(ILogger logger, Exception exception, int count, TimeSpan delay);

    [LoggerMessage(22, LogLevel.Error, "Gave up storing {Count} job outcomes before their leases lapse; the rescuer will retry those jobs")]
    public static partial void CompletionsDropped(ILogger logger, Exception exception, int count);

    [LoggerMessage(23, LogLevel.Warning, "Extending the leases of {Count} running jobs failed")]
    public static partial void LeaseRenewalFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(24, LogLevel.Error, "Rescuing jobs with expired leases failed")]
    public static partial void RescueFailed(ILogger logger, Exception exception);

    [LoggerMessage(25, LogLevel.Warning, "Rescued {Count} jobs whose node stopped renewing their lease")]
    public static partial void JobsRescued(ILogger logger, int count);

    [LoggerMessage(26, LogLevel.Warning, "Listening for job notifications on channel {Channel} failed; polling covers the gap, reconnecting in {Delay}")]
    public static partial void ListenFailed(ILogger logger, Exception exception, string channel, TimeSpan delay);

    [LoggerMessage(27, LogLevel.Information, "Listening for job notifications on channel {Channel} again")]
    public static partial void ListenRestored(ILogger logger, string channel);

    [LoggerMessage(28, LogLevel.Warning, "Renewing leadership failed; this node stops leading when its lease lapses")]
    public static partial void LeadershipRenewalFailed(ILogger logger, Exception exception);

    [LoggerMessage(29, LogLevel.Information, "Node {NodeId} leads the cluster: {IsLeader}")]
    public static partial void LeadershipChanged(ILogger logger, string nodeId, bool isLeader);

    [LoggerMessage(31, LogLevel.Warning, "Sending the heartbeat of node {NodeId} failed")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(32, LogLevel.Information, "Node {NodeId} was asked through the store to drain")]
    public static partial void DrainRequested(ILogger logger, string nodeId);

    [LoggerMessage(33, LogLevel.Information, "Pruned {Count} finished jobs past their retention")]
    public static partial void Pruned(ILogger logger, int count);

    [LoggerMessage(34, LogLevel.Error, "Pruning finished jobs failed")]
    public static partial void PruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(35, LogLevel.Warning, "Node {NodeId} could not leave the cluster cleanly; its leadership and node row lapse on their own")]
    public static partial void LeaveFailed(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(36, LogLevel.Error, "Handing back the jobs that a failed claim may have taken for this node failed; retrying in {Delay}")]
    public static partial void ReleaseUnknownFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(37, LogLevel.Warning, "Node {NodeId} stopped without handing back the jobs that a failed claim may have taken for it; they are rescued once their leases expire")]
    public static partial void ReleaseUnknownAtStopFailed(ILogger logger, Exception exception, string nodeId);

    [LoggerMessage(38, LogLevel.Warning, "Reading the queues' depths and the live nodes for the cluster metrics failed; the gauges report nothing until the next reading")]
    public static partial void ClusterSampleFailed(ILogger logger, Exception exception);

    [LoggerMessage(30, LogLevel.Warning, "Shutdown timeout of {Timeout} passed with {Count} jobs running; cancelling them and handing them back to their queues")]
    public static partial void ShutdownCancelling(ILogger logger, TimeSpan timeout, int count);

    [LoggerMessage(50, LogLevel.Information, "Queue {Queue} runs {Concurrency} jobs at once on this node (was {Previous})")]
    public static partial void QueueConcurrencyChanged(ILogger logger, string queue, int previous, int concurrency);
}
