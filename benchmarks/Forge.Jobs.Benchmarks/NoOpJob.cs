using Forge.Jobs;

namespace Forge.Jobs.Benchmarks;

[JobType("noop")]
public sealed record NoOp(int N);

/// <summary>Counts down and signals when the last expected job has run.</summary>
public sealed class Countdown
{
    private int _left;

    public TaskCompletionSource Done { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Reset(int count)
    {
        _left = count;
        Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Signal()
    {
        if (Interlocked.Decrement(ref _left) == 0)
        {
            Done.TrySetResult();
        }
    }
}

public sealed class NoOpHandler(Countdown countdown) : IJobHandler<NoOp>
{
    public Task HandleAsync(NoOp job, JobContext context, CancellationToken cancellationToken)
    {
        countdown.Signal();
        return Task.CompletedTask;
    }
}
