using System.Collections.Concurrent;

namespace Forge.Jobs.Tests.Support;

/// <summary>What the test handlers saw, shared with the test through DI.</summary>
internal sealed class Recorder
{
    private readonly ConcurrentDictionary<int, int> _runs = new();
    private int _current;
    private int _max;
    private int _expected = int.MaxValue;

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource TokenFired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource AllRan { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Full { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Limit { get; set; } = int.MaxValue;

    public IReadOnlyDictionary<int, int> Runs => _runs;

    public int MaxConcurrent => Volatile.Read(ref _max);

    public void Expect(int count) => _expected = count;

    public void Ran(int n)
    {
        _runs.AddOrUpdate(n, 1, static (_, count) => count + 1);
        if (_runs.Count >= _expected)
        {
            AllRan.TrySetResult();
        }
    }

    public void Enter()
    {
        var now = Interlocked.Increment(ref _current);
        int seen;
        while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
        {
        }

        if (now >= Limit)
        {
            Full.TrySetResult();
        }
    }

    public void Exit() => Interlocked.Decrement(ref _current);
}
