namespace Forge.Jobs.Tests.Support;

internal sealed record Ping(int N);

internal sealed class PingHandler(Recorder recorder) : IJobHandler<Ping>
{
    public Task HandleAsync(Ping job, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Ran(job.N);
        return Task.CompletedTask;
    }
}

[JobType("always_fails")]
internal sealed record AlwaysFails;

internal sealed class AlwaysFailsHandler : IJobHandler<AlwaysFails>
{
    public Task HandleAsync(AlwaysFails job, JobContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"always fails (attempt {context.Attempt})");
}

internal sealed record FailsOnce;

internal sealed class FailsOnceHandler : IJobHandler<FailsOnce>
{
    public Task HandleAsync(FailsOnce job, JobContext context, CancellationToken cancellationToken) =>
        context.Attempt == 1 ? throw new TimeoutException("first attempt fails") : Task.CompletedTask;
}

/// <summary>Waits for the recorder's gate; honours its token.</summary>
internal sealed record Blocking;

internal sealed class BlockingHandler(Recorder recorder) : IJobHandler<Blocking>
{
    public async Task HandleAsync(Blocking job, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Started.TrySetResult();
        try
        {
            await recorder.Gate.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            recorder.TokenFired.TrySetResult();
            throw;
        }
    }
}

/// <summary>Never finishes and ignores its token.</summary>
internal sealed record Hung;

internal sealed class HungHandler : IJobHandler<Hung>
{
    public Task HandleAsync(Hung job, JobContext context, CancellationToken cancellationToken) => new TaskCompletionSource().Task;
}

/// <summary>Counts how many run at once; waits for the gate.</summary>
internal sealed record Counted(int N);

internal sealed class CountedHandler(Recorder recorder) : IJobHandler<Counted>
{
    public async Task HandleAsync(Counted job, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Enter();
        try
        {
            await recorder.Gate.Task.WaitAsync(cancellationToken);
            recorder.Ran(job.N);
        }
        finally
        {
            recorder.Exit();
        }
    }
}

internal sealed record Sum(int A, int B);

internal sealed class SumHandler : IJobHandler<Sum, int>
{
    public Task<int> HandleAsync(Sum job, JobContext context, CancellationToken cancellationToken) => Task.FromResult(job.A + job.B);
}

/// <summary>Has no handler anywhere.</summary>
internal sealed record Unhandled;
