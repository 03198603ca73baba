using Forge.Jobs.Diagnostics;
using Forge.Jobs.Retry;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Processing;

/// <summary>Runs one attempt and turns whatever happens into its completion. Nothing a handler does escapes:
/// any exception is a failed attempt, and a handler that ignores its fired token is abandoned so that its slot
/// is freed (it may still run in the background, which the log says).</summary>
internal sealed class JobExecutor(
    IServiceProvider services,
    JobTypeRegistry registry,
    RetryPolicy retryPolicy,
    RunningJobs running,
    AttemptServices attemptServices,
    ForgeJobsMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggerFactory)
{
    /// <summary>How long a handler whose token fired may take to stop before it is abandoned.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    private readonly ILogger _logger = loggerFactory.CreateLogger("Forge.Jobs.Processing");
    private readonly ILogger _jobLogger = loggerFactory.CreateLogger("Forge.Jobs.Job");

    /// <returns>The attempt's outcome to store, or <see langword="null"/> when the handler stored it itself.</returns>
    public async Task<Completion?> RunAsync(ClaimedJob job)
    {
        var startedAt = time.GetTimestamp();
        metrics.Started(job);

        // The handler runs inside this span (it flows into the handler's task), so the handler's own spans are its children.
        using var process = ForgeJobsActivities.StartProcess(job);
        var attempt = new RunningJob(job, time);
        running.Add(attempt);
        using var scope = _logger.BeginScope(new JobLogScope(job, process?.TraceId));
        Task<string?>? invocation = null;
        Completion? completion;
        try
        {
            var invoker = registry.Find(job.Type)
                ?? throw new InvalidOperationException(
                    $"No handler is registered for job type '{job.Type}' on node {job.LeaseOwner}. Register one with AddHandler on every node that serves queue '{job.Queue}'.");
            // On the thread pool, so that a handler that blocks before its first await still times out.
            var context = new JobContext(attempt, _jobLogger, attemptServices);
            invocation = Task.Run(() => invoker.InvokeAsync(services, job.Payload, context, attempt.Token), CancellationToken.None);
            var result = await AwaitHandlerAsync(invocation, attempt).ConfigureAwait(false);
            completion = attempt.CompletedByHandler ? null : Succeeded(job, result, attempt.Logs());
        }
        catch (Exception exception)
        {
            completion = Failed(job, attempt, exception);
            if (completion.Outcome is CompletionOutcome.Retry or CompletionOutcome.Dead)
            {
                ForgeJobsActivities.Failed(process, exception);
            }
        }
        finally
        {
            running.Remove(attempt);
            if (invocation is null || invocation.IsCompleted)
            {
                // An abandoned handler may still use its token, so that source is left to the collector.
                attempt.Dispose();
            }
        }

        var outcome = completion?.Outcome ?? CompletionOutcome.Succeeded;
        metrics.Completed(job, outcome, time.GetElapsedTime(startedAt));
        ForgeJobsActivities.Processed(process, outcome);
        return completion;
    }

    /// <summary>Waits for the handler. Once its token fires, the handler gets <see cref="StopGrace"/> to notice;
    /// after that it is abandoned, so a handler that ignores its token cannot hold a slot forever.</summary>
    private async Task<string?> AwaitHandlerAsync(Task<string?> invocation, RunningJob attempt)
    {
        try
        {
            return await invocation.WaitAsync(attempt.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                return await invocation.WaitAsync(StopGrace, time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.HandlerAbandoned(_logger, attempt.Job.Id, attempt.Job.Attempt);
                _ = invocation.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw new OperationCanceledException(attempt.Token);
            }
        }
    }

    private Completion Succeeded(ClaimedJob job, string? result, JobLogLine[]? logs)
    {
        Log.JobSucceeded(_logger, job.Id);
        return new Completion(job.Id, job.LeaseOwner, job.Attempt, CompletionOutcome.Succeeded, Result: result, Logs: logs);
    }

    private Completion Failed(ClaimedJob job, RunningJob attempt, Exception failure)
    {
        var logs = attempt.Logs();
        switch (attempt.Reason)
        {
            case StopReason.Cancelled:
                Log.JobCancelled(_logger, job.Id);
                return new Completion(job.Id, job.LeaseOwner, job.Attempt, CompletionOutcome.Cancelled, Error: "Cancelled while running.", Logs: logs);
            case StopReason.Shutdown:
                Log.JobReleased(_logger, job.Id, job.Attempt);
                return new Completion(job.Id, job.LeaseOwner, job.Attempt, CompletionOutcome.Released, Error: $"Interrupted by the shutdown of node {job.LeaseOwner}.", Logs: logs);
        }

        var error = attempt.Reason == StopReason.None && attempt.Token.IsCancellationRequested && failure is OperationCanceledException
            ? $"TimeoutException: the attempt ran longer than its timeout of {job.Timeout} and was cancelled."
            : failure.ToString();
        var completion = retryPolicy.Fail(job.Id, job.LeaseOwner, job.Attempt, job.Failures, job.MaxRetries, job.Type, job.Queue, job.Backoff, error);
        if (completion.Outcome == CompletionOutcome.Dead)
        {
            Log.JobDead(_logger, failure, job.Id, job.Attempt);
        }
        else
        {
            Log.JobRetrying(_logger, failure, job.Id, job.Attempt, completion.RetryDelay);
        }

        return logs is null ? completion : completion with { Logs = logs };
    }
}
