using System.Diagnostics;

namespace Forge.Jobs.LoadTest;

/// <summary>A steady offered load: every few milliseconds, one bulk enqueue of the jobs that have come due at the rate.</summary>
internal static class Steady
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);
    private const int MaxInFlight = 16;

    /// <returns>How many jobs were enqueued before <paramref name="stopToken"/> fired.</returns>
    public static async Task<long> EnqueueAsync(ILoadTarget target, int rate, bool timed, CancellationToken stopToken)
    {
        var inFlight = new SemaphoreSlim(MaxInFlight);
        var calls = new List<Task>();
        var clock = Stopwatch.StartNew();
        long sent = 0;
        while (!stopToken.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * rate) - sent;
            if (due > 0)
            {
                await inFlight.WaitAsync(CancellationToken.None);
                var stamp = timed ? Stopwatch.GetTimestamp() : 0;
                var count = (int)due;
                calls.Add(ReleasingAsync(() => target.EnqueueManyAsync(count, stamp), inFlight));
                sent += due;
            }

            try
            {
                await Task.Delay(Tick, stopToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await Task.WhenAll(calls);
        return sent;
    }

    /// <summary>Waits until <paramref name="clock"/> reads <paramref name="at"/>; the last stretch spins, since a timer
    /// wakes a millisecond or more late.</summary>
    public static async Task WaitUntilAsync(Stopwatch clock, TimeSpan at)
    {
        var left = at - clock.Elapsed;
        if (left > TimeSpan.FromMilliseconds(2))
        {
            await Task.Delay(left - TimeSpan.FromMilliseconds(1));
        }

        while (clock.Elapsed < at)
        {
            Thread.SpinWait(20);
        }
    }

    /// <summary>Runs one enqueue call, then frees its place among the calls in flight.</summary>
    public static async Task ReleasingAsync(Func<Task> call, SemaphoreSlim inFlight)
    {
        try
        {
            await call();
        }
        finally
        {
            inFlight.Release();
        }
    }
}
