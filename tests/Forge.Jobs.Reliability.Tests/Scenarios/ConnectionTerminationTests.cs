using System.Diagnostics;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 5: all library connections terminated every 5 s for 2 minutes: no unhandled exception, every loop
/// keeps ticking, nothing stays <c>running</c> past lease + rescue interval.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class ConnectionTerminationTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Check = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan For = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    [FullSetFact]
    public async Task EveryLibraryConnectionTerminatedEvery5sFor2Minutes_NodesKeepWorking_NoJobStaysRunningPastItsRescue()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        var nodes = await scenario.StartNodesAsync(3);
        var settings = nodes[0].Settings;
        var overdueBound = TimeSpan.FromMilliseconds(settings.LeaseMilliseconds + settings.RescueMilliseconds);
        var random = new Random(5);
        await using var enqueuer = new SteadyEnqueuer<WorkJob>(scenario, TimeSpan.FromMilliseconds(50), () => new WorkJob(random.Next(50, 501)));
        await scenario.UntilCountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded'", 50, "jobs to flow");

        // The host names the library's connections after the node (Application Name); the ledger's and the test's
        // connections have no such name and are spared.
        var names = string.Join(", ", nodes.Select(n => $"'{n.NodeId}'"));
        var start = await scenario.DataSource.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        var (checks, rounds, terminated, worstOverdue) = (0, 0, 0L, TimeSpan.MinValue);
        using var pace = new PeriodicTimer(Check);
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < For)
        {
            // At every check (each second), no running job's lease has been out for longer than lease + rescue interval.
            var overdue = TimeSpan.FromMilliseconds(await scenario.CountAsync($"""
                SELECT coalesce((extract(epoch FROM max(now() - lease_until)) * 1000)::bigint, -86400000)
                FROM {scenario.Schema}.jobs WHERE state = 'running'
                """));
            worstOverdue = overdue > worstOverdue ? overdue : worstOverdue;
            Assert.True(overdue <= overdueBound, $"A job has been running {overdue.TotalSeconds:F3} s past its lease, more than lease + rescue interval ({overdueBound.TotalSeconds} s).\n{scenario.NodeOutput()}");
            if (checks++ % (int)(Every / Check) == 0)
            {
                await using (await scenario.FaultAsync("terminate-connections"))
                {
                    terminated += await scenario.CountAsync($"""
                        WITH victims AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE application_name IN ({names}))
                        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM victims
                        """);
                }

                rounds++;
            }

            await pace.WaitForNextTickAsync();
        }

        var end = await scenario.DataSource.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        await enqueuer.StopAsync();
        var rescued = await scenario.CountAsync($"SELECT count(*) FROM {scenario.Schema}.job_attempts WHERE outcome = 'lease_expired'");
        output.WriteLine($"{rounds} rounds terminated {terminated} connections; at {checks} checks, the running job whose lease ran out longest ago: {(worstOverdue > TimeSpan.Zero ? $"{worstOverdue.TotalMilliseconds:F0} ms ago" : "none had run out")} (bound {overdueBound.TotalSeconds} s); {rescued} attempts rescued; enqueue calls: {enqueuer.Stored} returned, {enqueuer.Failed} failed.");
        Assert.True(terminated >= rounds, "each round terminated library connections");

        // Every node kept claiming, running and completing: each finished jobs in every 10-s window of the fault.
        foreach (var node in nodes)
        {
            var windows = (int)Math.Floor((end - start) / Window);
            var counts = new List<long>();
            for (var w = 0; w < windows; w++)
            {
                counts.Add(await scenario.CountAsync($"""
                    SELECT count(*) FROM {scenario.Schema}.jobs
                    WHERE state = 'succeeded' AND lease_owner = '{node.NodeId}'
                      AND finished_at >= '{start:O}'::timestamptz + interval '{w * Window.TotalSeconds} s'
                      AND finished_at < '{start:O}'::timestamptz + interval '{(w + 1) * Window.TotalSeconds} s'
                    """));
            }

            output.WriteLine($"{node.NodeId} completed per 10 s: {string.Join(" ", counts)}");
            Assert.All(counts, count => Assert.True(count > 0, $"{node.NodeId} completed nothing in a 10-s window: {string.Join(" ", counts)}"));
        }

        // The other loops ticked too: every node's heartbeat is fresh and a node leads.
        await scenario.UntilCountAsync($"SELECT count(*) FROM {scenario.Schema}.nodes WHERE id IN ({names}) AND heartbeat_at > now() - interval '{settings.LeaseMilliseconds} ms'",
            nodes.Count, "every node's heartbeat to be fresh");
        await scenario.UntilCountAsync($"SELECT count(*) FROM {scenario.Schema}.leases WHERE name = 'leader' AND holder IN ({names}) AND expires_at > now()", 1, "a node to lead");
        await scenario.UntilAllTerminalAsync();
        Assert.All(nodes, node =>
        {
            Assert.False(node.HasExited, $"Node {node.NodeId} exited.");
            Assert.DoesNotContain("Unhandled exception", node.Output, StringComparison.Ordinal);
        });
        await scenario.CheckAsync();
    }
}
