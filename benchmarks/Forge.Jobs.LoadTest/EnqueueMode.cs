using System.Diagnostics;
using Npgsql;

namespace Forge.Jobs.LoadTest;

/// <summary><c>enqueue</c>: bulk enqueue throughput (N jobs, B per call, one caller), then one-at-a-time enqueue (each
/// job its own call and transaction) from C concurrent callers; no engine runs. For scale, the same callers then
/// commit one-row INSERTs into a bare table: the raw commit rate of the server, which bounds one-at-a-time enqueue.</summary>
internal static class EnqueueMode
{
    private const int WarmUpCalls = 50;

    public static async Task<RunResult> RunAsync(ILoadTarget target, int jobs, int batch, int singleJobs, int callers)
    {
        await target.PrepareAsync();
        // Not timed: the first calls run code that is not yet compiled to its optimized tier.
        for (var i = 0; i < WarmUpCalls; i++)
        {
            await target.EnqueueManyAsync(batch, stamp: 0);
            await target.EnqueueOneAsync(stamp: 0);
        }

        var clock = Stopwatch.StartNew();
        for (var sent = 0; sent < jobs; sent += batch)
        {
            await target.EnqueueManyAsync(Math.Min(batch, jobs - sent), stamp: 0);
        }

        var bulkSeconds = clock.Elapsed.TotalSeconds;

        var (singleSeconds, latencies) = await OneAtATimeAsync(singleJobs, callers, target.EnqueueOneAsync);
        var result = new RunResult("enqueue", target.Name, jobs, bulkSeconds) { RssMegabytes = ProcessMemory.PeakMegabytes() }
            .WithLatency(latencies)
            .With("batch", batch, "bulk: jobs per call")
            .With("single_jobs_per_s", singleJobs / singleSeconds, "one at a time: jobs/s")
            .With("callers", callers, "one at a time: concurrent callers");
        if (target is ForgeTarget forge)
        {
            var rawCommitsPerSecond = await RawCommitRateAsync(forge.ConnectionString, singleJobs, callers);
            result.With("raw_commits_per_s", rawCommitsPerSecond, "raw one-row commits/s, same callers");
        }

        return result;
    }

    /// <returns>The seconds taken, and each call's duration in Stopwatch ticks.</returns>
    private static async Task<(double Seconds, long[] Latencies)> OneAtATimeAsync(int count, int callers, Func<long, Task> call)
    {
        var latencies = new long[count];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                await call(start);
                latencies[i] = Stopwatch.GetTimestamp() - start;
            }
        }));
        return (clock.Elapsed.TotalSeconds, latencies);
    }

    private static async Task<double> RawCommitRateAsync(string connectionString, int count, int callers)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var create = dataSource.CreateCommand(
            "DROP TABLE IF EXISTS forge_load_raw; CREATE TABLE forge_load_raw (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var (seconds, _) = await OneAtATimeAsync(count, callers, async stamp =>
        {
            await using var insert = dataSource.CreateCommand("INSERT INTO forge_load_raw (payload) VALUES ($1::jsonb)");
            insert.Parameters.AddWithValue($"{{\"t\":{stamp}}}");
            await insert.ExecuteNonQueryAsync();
        });

        await using var drop = dataSource.CreateCommand("DROP TABLE forge_load_raw");
        await drop.ExecuteNonQueryAsync();
        return count / seconds;
    }
}
