namespace Forge.Jobs.LoadTest;

/// <summary>The Hangfire counterpart of <see cref="LoadJob"/>: a no-op method whose argument is the Stopwatch
/// timestamp of its enqueue, or 0 when it is not timed.</summary>
internal static class HangfireLoadJob
{
    public static void Run(long stamp) => LoadRecorder.Record(stamp);
}
