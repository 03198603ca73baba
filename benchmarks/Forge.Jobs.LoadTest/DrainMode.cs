using System.Diagnostics;

namespace Forge.Jobs.LoadTest;

/// <summary><c>drain</c>: N no-op jobs are enqueued in bulk (not timed); then the nodes' engines start, and the time
/// runs until the last job has succeeded.</summary>
internal static class DrainMode
{
    private const int EnqueueChunk = 10_000;

    public static async Task<RunResult> RunAsync(ILoadTarget target, int nodes, int jobs, int concurrency, int preloadFinished)
    {
        await target.PrepareAsync();
        if (preloadFinished > 0)
        {
            if (target is not ForgeTarget forge)
            {
                throw new UsageException("--finished applies to Forge.Jobs only.");
            }

            Console.WriteLine($"storing {preloadFinished:N0} finished jobs...");
            await forge.PreloadFinishedAsync(preloadFinished);
        }

        Console.WriteLine($"{target.Name}: enqueueing {jobs:N0} jobs (not timed)...");
        for (var sent = 0; sent < jobs; sent += EnqueueChunk)
        {
            await target.EnqueueManyAsync(Math.Min(EnqueueChunk, jobs - sent), stamp: 0);
        }

        await using var cluster = await Cluster.StartAsync(target, nodes, concurrency, capacity: 0);
        var clock = Stopwatch.StartNew();
        await cluster.GoAsync();
        await cluster.WaitForStartedAsync(jobs, TimeSpan.FromMinutes(30));
        while (await target.CountUnfinishedAsync() > 0)
        {
            await Task.Delay(2);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var report = await cluster.StopAsync();
        return new RunResult("drain", target.Name, jobs, seconds) { RssMegabytes = report.PeakRssMegabytes }
            .With("alloc_per_job_b", (double)report.AllocatedBytes / jobs, "allocated per job (bytes)")
            .With("concurrency", concurrency, "concurrency per node")
            .With("nodes", nodes, "nodes");
    }
}
