using System.Diagnostics;
using System.Globalization;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 11: ten nodes contending on one queue for 200,000 tiny jobs of mixed priorities (0 to 9; 9 runs
/// first, docs/scheduling.md), enqueued in interleaved calls of 1,000 while the nodes run. The invariants hold, neither a
/// node nor PostgreSQL logs a deadlock, and the jobs of the top priorities (7–9) wait less on average, from their enqueue
/// to their start, than those of the bottom ones (0–2).</summary>
[Collection(ScenarioGroup.Name)]
public sealed class PriorityContentionTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Nodes = 10;
    private const int Jobs = 200_000;
    private const int Call = 1_000;

    [FullSetFact]
    public async Task TenNodesOneQueue_200kJobsOfMixedPriorities_InvariantsHold_NoDeadlock_HigherPrioritiesWaitLess()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        var log = (await PostgresServer.GetAsync()).LogFile;
        var logStart = log is null ? 0 : new FileInfo(log).Length;
        var elapsed = Stopwatch.StartNew();

        // Four executors per node: forty in all on two cores. Leases long enough that a starved process does not lose them.
        await scenario.StartNodesAsync(Nodes, s => s with { Queues = new Dictionary<string, int> { ["default"] = 4 }, LeaseMilliseconds = 30_000, RenewMilliseconds = 10_000 });
        var started = elapsed.Elapsed;
        for (var i = 0; i < Jobs / Call; i++)
        {
            // 3 is coprime with 10: each run of ten calls covers every priority once, in a scrambled order.
            await scenario.EnqueueAsync([.. Enumerable.Repeat(new WorkJob(), Call)], new JobOptions { Priority = i * 3 % 10 });
        }

        var enqueued = elapsed.Elapsed;
        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(30));
        var ran = elapsed.Elapsed;

        Assert.Equal(Jobs, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded'"));
        var waits = await MeanWaitsAsync(scenario);
        var top = waits.Where(w => w.Priority >= 7).Average(w => w.MeanMs);
        var bottom = waits.Where(w => w.Priority <= 2).Average(w => w.MeanMs);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Nodes} nodes ready in {started.TotalSeconds:F1} s; {Jobs:N0} jobs enqueued in {(enqueued - started).TotalSeconds:F1} s and all succeeded {(ran - started).TotalSeconds:F1} s after the first enqueue ({Jobs / (ran - started).TotalSeconds:F0} jobs/s)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mean wait by priority (ms): {string.Join(", ", waits.Select(w => $"{w.Priority}: {w.MeanMs:F0}"))}; top band (7–9) {top:F0} ms, bottom band (0–2) {bottom:F0} ms"));
        Assert.True(top < bottom, $"The top priorities waited {top:F0} ms on average, the bottom ones {bottom:F0} ms.");

        Assert.All(scenario.Nodes, node => Assert.DoesNotContain("deadlock", node.Output, StringComparison.OrdinalIgnoreCase));
        Assert.All(scenario.Nodes, node => Assert.DoesNotContain("40P01", node.Output, StringComparison.Ordinal));
        if (log is not null)
        {
            var logged = await ReadFromAsync(log, logStart);
            Assert.DoesNotContain("deadlock", logged, StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            output.WriteLine($"The server is not one these tests started ({PostgresServer.EnvironmentVariable}); its log was not read.");
        }

        await scenario.CheckAsync();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"scenario took {elapsed.Elapsed.TotalSeconds:F1} s"));
    }

    /// <summary>Per priority, the mean time from a job's enqueue to the start of its first run, on the database clock.</summary>
    private static async Task<List<(int Priority, double MeanMs)>> MeanWaitsAsync(Scenario scenario)
    {
        await using var command = scenario.DataSource.CreateCommand($"""
            SELECT j.priority, avg(extract(epoch FROM l.started_at - j.created_at) * 1000)::float8
            FROM {scenario.Schema}.jobs AS j
            JOIN (SELECT job_id, min(started_at) AS started_at FROM {scenario.Schema}_ledger GROUP BY job_id) AS l ON l.job_id = j.id
            GROUP BY j.priority ORDER BY j.priority
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var waits = new List<(int, double)>();
        while (await reader.ReadAsync())
        {
            waits.Add((reader.GetInt16(0), reader.GetDouble(1)));
        }

        return waits;
    }

    private static async Task<string> ReadFromAsync(string path, long offset)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
