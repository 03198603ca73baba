using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 6: half-open network on one node for 60 s: its calls time out, other nodes take over its jobs, it
/// recovers by itself.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class HalfOpenNetworkTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private static readonly TimeSpan Blackhole = TimeSpan.FromSeconds(60);

    [FullSetFact]
    public async Task OneNodeBlackholedFor60s_ItsCallsTimeOut_OthersFinishItsJobs_ItRecoversWithoutRestart()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        var direct = new NpgsqlConnectionStringBuilder(scenario.ConnectionString);
        await using var proxy = new FaultProxy(direct.Host!, direct.Port);

        // Npgsql's timeouts, all of which a blackhole runs into: a statement is abandoned after Command Timeout (the
        // store's CommandTimeout sets it on every command; the connection string's covers BEGIN and COMMIT), then a
        // cancel request is sent on a new connection (lost in the blackhole too) and awaited for Cancellation Timeout,
        // after which Npgsql breaks the connection and throws. Opening a connection gives up after Timeout. TCP
        // keepalives are not needed: every wait is bounded by one of these.
        var cut = await scenario.StartNodeAsync(scenario.NextNode() with
        {
            ConnectionString = new NpgsqlConnectionStringBuilder(scenario.ConnectionString)
            {
                Host = "127.0.0.1",
                Port = proxy.Port,
                Timeout = 5,
                CommandTimeout = 5,
                CancellationTimeout = 2_000,
            }.ConnectionString,
            CommandTimeoutMilliseconds = 5_000,
        });
        var others = await scenario.StartNodesAsync(2);
        var random = new Random(6);
        await using var enqueuer = new SteadyEnqueuer<WorkJob>(scenario, TimeSpan.FromMilliseconds(100), () => new WorkJob(random.Next(500, 3_001)));
        await scenario.UntilCountAsync($"SELECT count(*) FROM {scenario.Schema}.jobs WHERE state = 'running' AND lease_owner = '{cut.NodeId}'", 3, "the node to run jobs");

        DateTime healedAt;
        await using (await scenario.FaultAsync("blackhole", cut))
        {
            proxy.Blackhole();
            var blackholedAt = await scenario.DataSource.ScalarAsync<DateTime>("SELECT clock_timestamp()");
            var held = await HeldAsync(scenario, cut);
            var heldIds = $"ARRAY[{string.Join(",", held)}]::bigint[]";
            await Task.Delay(Blackhole);

            // While it was cut off, the jobs it held were rescued and finished elsewhere (but for a completion that was
            // already on its way when the blackhole began, which the database may have stored).
            var rescued = await scenario.CountAsync($"""
                SELECT count(*) FROM {scenario.Schema}.jobs j
                WHERE j.id = ANY ({heldIds}) AND j.state = 'succeeded' AND j.lease_owner <> '{cut.NodeId}'
                  AND EXISTS (SELECT 1 FROM {scenario.Schema}.job_attempts a WHERE a.job_id = j.id AND a.node = '{cut.NodeId}' AND a.outcome = 'lease_expired')
                """);
            var storedBefore = await scenario.CountAsync($"""
                SELECT count(*) FROM {scenario.Schema}.jobs j
                WHERE j.id = ANY ({heldIds}) AND j.state = 'succeeded' AND j.lease_owner = '{cut.NodeId}' AND j.finished_at <= '{blackholedAt:O}'
                """);
            var stillHeld = await scenario.CountAsync($"SELECT count(*) FROM {scenario.Schema}.jobs WHERE state = 'running' AND lease_owner = '{cut.NodeId}'");
            output.WriteLine($"Held {held.Count} jobs when cut off; after {Blackhole.TotalSeconds} s, {rescued} were rescued and finished by others ({storedBefore} completed just before the cut), {stillHeld} still held.");
            Assert.Equal(held.Count, rescued + storedBefore);
            Assert.True(rescued >= 1, "the node held jobs that others had to finish");
            Assert.Equal(0L, stillHeld);
            Assert.Equal(0L, await scenario.CountAsync($"""
                SELECT count(*) FROM {scenario.Schema}.job_attempts a
                WHERE a.node = '{cut.NodeId}' AND a.outcome = 'lease_expired' AND a.finished_at >= '{blackholedAt:O}'
                  AND NOT EXISTS (SELECT 1 FROM {scenario.Schema}_ledger l WHERE l.job_id = a.job_id AND l.attempt > a.attempt AND l.node <> '{cut.NodeId}' AND l.outcome = 'returned')
                """));
            proxy.Heal();
            healedAt = await scenario.DataSource.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        }

        // Its calls timed out while cut off, and it said so: the renewal of its jobs' leases failed on a timeout.
        Assert.Contains(cut.Output.Split('\n'), line => line.Contains("Extending the leases of", StringComparison.Ordinal) && line.Contains("TimeoutException", StringComparison.Ordinal));

        // The same process claims and completes jobs again.
        await scenario.UntilCountAsync($"""
            SELECT count(*) FROM {scenario.Schema}.jobs j JOIN {scenario.Schema}_ledger l ON l.job_id = j.id AND l.attempt = j.attempt
            WHERE j.state = 'succeeded' AND j.lease_owner = '{cut.NodeId}' AND l.node = '{cut.NodeId}' AND l.started_at > '{healedAt:O}'
            """, 3, "the healed node to complete jobs again");
        var back = TimeSpan.FromMilliseconds(await scenario.CountAsync($"""
            SELECT (extract(epoch FROM min(l.started_at) - '{healedAt:O}'::timestamptz) * 1000)::bigint
            FROM {scenario.Schema}_ledger l WHERE l.node = '{cut.NodeId}' AND l.started_at > '{healedAt:O}'
            """));
        output.WriteLine($"After the heal, the node started its first job {back.TotalSeconds:F3} s later. Enqueue calls: {enqueuer.Stored} returned, {enqueuer.Failed} failed.");
        Assert.False(cut.HasExited);
        await enqueuer.StopAsync();
        await scenario.UntilAllTerminalAsync();
        Assert.All(scenario.Nodes, node => Assert.DoesNotContain("Unhandled exception", node.Output, StringComparison.Ordinal));
        Assert.All(others, node => Assert.False(node.HasExited));
        await scenario.CheckAsync();
    }

    private static async Task<List<long>> HeldAsync(Scenario scenario, NodeProcess node)
    {
        var ids = new List<long>();
        await using var command = scenario.DataSource.CreateCommand($"SELECT id FROM {scenario.Schema}.jobs WHERE state = 'running' AND lease_owner = '{node.NodeId}'");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }
}
