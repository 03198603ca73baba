using System.Diagnostics;

namespace Forge.Jobs.LoadTest;

/// <summary><c>latency</c>: this process enqueues N jobs one at a time at a fixed rate while the nodes' engines run,
/// idle or kept busy by a background load; each job's time from the start of its enqueue call to the start of its
/// handler is measured.</summary>
internal static class LatencyMode
{
    private const int MaxInFlight = 64;

    public static async Task<RunResult> RunAsync(ILoadTarget target, int nodes, int concurrency, int rate, int jobs, int busyRate)
    {
        await target.PrepareAsync();
        await using var cluster = await Cluster.StartAsync(target, nodes, concurrency, capacity: jobs);
        await cluster.GoAsync();
        await target.EnqueueOneAsync(stamp: 0);
        await cluster.WaitForStartedAsync(1, TimeSpan.FromMinutes(1));

        using var stopBackground = new CancellationTokenSource();
        var background = busyRate > 0 ? Steady.EnqueueAsync(target, busyRate, timed: false, stopBackground.Token) : Task.FromResult(0L);
        var inFlight = new SemaphoreSlim(MaxInFlight);
        var calls = new List<Task>(jobs);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < jobs; i++)
        {
            await Steady.WaitUntilAsync(clock, TimeSpan.FromSeconds((double)i / rate));
            await inFlight.WaitAsync();
            calls.Add(Steady.ReleasingAsync(() => target.EnqueueOneAsync(Stopwatch.GetTimestamp()), inFlight));
        }

        await Task.WhenAll(calls);
        await stopBackground.CancelAsync();
        var backgroundJobs = await background;
        await cluster.WaitForStartedAsync(1 + jobs + backgroundJobs, TimeSpan.FromMinutes(10));
        var seconds = clock.Elapsed.TotalSeconds;
        var report = await cluster.StopAsync();
        return new RunResult("latency", target.Name, jobs, seconds) { RssMegabytes = report.PeakRssMegabytes }
            .WithLatency(report.Samples)
            .With("rate", rate, "offered rate (timed jobs/s)")
            .With("busy_rate", busyRate, "background load (jobs/s)")
            .With("nodes", nodes, "nodes");
    }
}
