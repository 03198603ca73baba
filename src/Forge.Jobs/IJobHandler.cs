namespace Forge.Jobs;

/// <summary>Runs jobs whose payload is a <typeparamref name="TJob"/>. Resolved from a DI scope created for each attempt.</summary>
/// <typeparam name="TJob">The payload type, stored as JSON.</typeparam>
public interface IJobHandler<in TJob>
{
    /// <summary>Runs one attempt. Returning completes the job; throwing fails the attempt, which is retried
    /// until its retries run out.</summary>
    /// <param name="job">The payload.</param>
    /// <param name="context">The job's identity, attempt and helpers.</param>
    /// <param name="cancellationToken">Fires on timeout, on cancellation of the job and on shutdown.</param>
    Task HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken);
}

/// <summary>Runs jobs whose payload is a <typeparamref name="TJob"/> and stores a <typeparamref name="TResult"/>
/// (as JSON) when one succeeds; read it with <see cref="IJobClient.GetResultAsync{TResult}"/>.</summary>
/// <typeparam name="TJob">The payload type, stored as JSON.</typeparam>
/// <typeparam name="TResult">The result type, stored as JSON.</typeparam>
public interface IJobHandler<in TJob, TResult>
{
    /// <inheritdoc cref="IJobHandler{TJob}.HandleAsync"/>
    Task<TResult> HandleAsync(TJob job, JobContext context, CancellationToken cancellationToken);
}
