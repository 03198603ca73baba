namespace Forge.Jobs.Scheduling;

/// <summary>What the client and the scheduler of one process share: the node's clock, which times the scheduler's
/// sleeps (occurrences are due by the store's clock), and a signal the client raises when it changes a schedule, so that
/// this process's scheduler looks again at once instead of at its next poll.</summary>
internal sealed class CronContext(TimeProvider time)
{
    private TaskCompletionSource _changed = NewSignal();

    public TimeProvider Time => time;

    /// <summary>Completes at the next <see cref="Signal"/>. Read it before looking at the store, so that a change made
    /// while looking is not missed.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    public void Signal() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
