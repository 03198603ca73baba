using System.Diagnostics;

namespace Forge.Jobs.LoadTest;

/// <summary><c>sustained</c>: a steady offered load of R jobs/s for S seconds, enqueued in small bulk calls every few
/// milliseconds; the achieved rate and the enqueue-to-start percentiles of every job.</summary>
internal static class SustainedMode
{
    public static async Task<RunResult> RunAsync(ILoadTarget target, int nodes, int concurrency, int rate, int seconds)
    {
        await target.PrepareAsync();
        await using var cluster = await Cluster.StartAsync(target, nodes, concurrency, capacity: rate * seconds * 2);
        await cluster.GoAsync();
        await target.EnqueueOneAsync(stamp: 0);
        await cluster.WaitForStartedAsync(1, TimeSpan.FromMinutes(1));

        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var jobs = await Steady.EnqueueAsync(target, rate, timed: true, stop.Token);
        await cluster.WaitForStartedAsync(1 + jobs, TimeSpan.FromMinutes(10));
        var elapsed = clock.Elapsed.TotalSeconds;
        var report = await cluster.StopAsync();
        return new RunResult("sustained", target.Name, jobs, elapsed) { RssMegabytes = report.PeakRssMegabytes }
            .WithLatency(report.Samples)
            .With("offered_per_s", rate, "offered rate (jobs/s)")
            .With("nodes", nodes, "nodes");
    }
}
