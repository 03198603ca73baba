namespace Forge.Jobs.LoadTest;

/// <summary>A no-op job; <see cref="T"/> is the Stopwatch timestamp of its enqueue, or 0 when it is not timed.</summary>
[JobType("load")]
public sealed record LoadJob(long T);

public sealed class LoadJobHandler : IJobHandler<LoadJob>
{
    public Task HandleAsync(LoadJob job, JobContext context, CancellationToken cancellationToken)
    {
        LoadRecorder.Record(job.T);
        return Task.CompletedTask;
    }
}
