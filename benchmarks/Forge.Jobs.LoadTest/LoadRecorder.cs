using System.Diagnostics;

namespace Forge.Jobs.LoadTest;

/// <summary>What the handlers of a node process saw: how many jobs started, and for each timed job the time from its
/// enqueue to its handler's start. Stopwatch timestamps come from the system-wide monotonic clock, so a timestamp
/// taken in the enqueuing process can be compared with one taken here.</summary>
internal static class LoadRecorder
{
    private static long[] _samples = new long[1024];
    private static int _sampleCount;
    private static long _started;

    public static long Started => Interlocked.Read(ref _started);

    public static void Prepare(int capacity)
    {
        _samples = new long[capacity];
        _sampleCount = 0;
        Interlocked.Exchange(ref _started, 0);
    }

    public static void Record(long enqueuedAt)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _started);
        if (enqueuedAt != 0)
        {
            var slot = Interlocked.Increment(ref _sampleCount) - 1;
            if (slot < _samples.Length)
            {
                _samples[slot] = now - enqueuedAt;
            }
        }
    }

    public static ReadOnlySpan<long> Samples => _samples.AsSpan(0, Math.Min(_sampleCount, _samples.Length));
}
