namespace Forge.Jobs.Tests.Regression;

/// <summary>Signals shared between review tests and their handlers through DI.</summary>
internal sealed class RegressionProbe
{
    public TaskCompletionSource FirstStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource FirstGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource SecondStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource SecondGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource SecondTokenFired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource SyncStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ManualResetEventSlim SyncGate { get; } = new();
}

/// <summary>Attempt 1 waits for <see cref="RegressionProbe.FirstGate"/> and fails; attempt 2 waits for
/// <see cref="RegressionProbe.SecondGate"/> or its token.</summary>
internal sealed record TwoAttempts;

internal sealed class TwoAttemptsHandler(RegressionProbe probe) : IJobHandler<TwoAttempts>
{
    public async Task HandleAsync(TwoAttempts job, JobContext context, CancellationToken cancellationToken)
    {
        if (context.Attempt == 1)
        {
            probe.FirstStarted.TrySetResult();
            await probe.FirstGate.Task;
            throw new InvalidOperationException("attempt 1 fails");
        }

        probe.SecondStarted.TrySetResult();
        try
        {
            await probe.SecondGate.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            probe.SecondTokenFired.TrySetResult();
            throw;
        }
    }
}

/// <summary>Blocks its thread (as sync I/O or a sync lock would) before returning a task.</summary>
internal sealed record SyncBlocking;

internal sealed class SyncBlockingHandler(RegressionProbe probe) : IJobHandler<SyncBlocking>
{
    public Task HandleAsync(SyncBlocking job, JobContext context, CancellationToken cancellationToken)
    {
        probe.SyncStarted.TrySetResult();
        probe.SyncGate.Wait(CancellationToken.None);
        return Task.CompletedTask;
    }
}
