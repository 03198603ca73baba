using System.Diagnostics;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 16: behind PgBouncer in transaction mode, polling only or with a direct <c>LISTEN</c> connection,
/// scenarios 1 (a node killed mid-batch), 4 (PostgreSQL restarted under load) and 11 (ten nodes contending on one
/// queue) hold. Nodes and the enqueuing client connect through PgBouncer; the ledger and the checks go direct.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class PgBouncerTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    [PgBouncerTheory]
    [InlineData(Wakeup.PollOnly)]
    [InlineData(Wakeup.DirectListen)]
    public async Task NodeKilledMidBatch_NoneLost_OnlyTheKilledNodesJobsRunAgain(Wakeup wakeup)
    {
        await using var scenario = await Scenario.CreateAsync(database);
        await using var bouncer = await BehindPgBouncer.StartAsync(scenario, wakeup);
        var nodes = await scenario.StartNodesAsync(3, bouncer.Node);
        var victim = nodes[0].NodeId;
        await bouncer.EnqueueAsync(Enumerable.Range(0, 600).Select(_ => new WorkJob(200)).ToList());
        await scenario.UntilAsync(
            async () => await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE node = '{victim}' AND ended_at IS NOT NULL") >= 16
                && await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE node = '{victim}' AND ended_at IS NULL") >= 4,
            "the victim to be mid-batch: jobs done and jobs running");

        await scenario.KillAsync(nodes[0]);

        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(3));
        Assert.Equal(0L, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state <> 'succeeded'"));
        var reruns = await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE attempt > 1");
        output.WriteLine($"{wakeup}: {reruns} of 600 jobs ran again after the kill.");
        Assert.True(reruns > 0, "the kill hit no job: nothing was re-run");
        // Every earlier attempt of a job is one of the victim's, ended by its lapsed lease; no other node lost one.
        Assert.Equal(0L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.job_attempts WHERE node <> '{victim}' OR outcome <> 'lease_expired'"));
        // In the ledger, every run that was followed by another run of its job was the victim's.
        Assert.Equal(0L, await scenario.CountAsync($"""
            SELECT count(*) FROM {scenario.Schema}_ledger AS l
            WHERE l.node <> '{victim}' AND EXISTS (SELECT 1 FROM {scenario.Schema}_ledger AS r WHERE r.job_id = l.job_id AND r.started_at > l.started_at)
            """));
        // And every run the kill cut short ran again, to success, elsewhere.
        Assert.Equal(0L, await scenario.CountAsync($"""
            SELECT count(*) FROM {scenario.Schema}_ledger AS l
            WHERE l.node = '{victim}' AND l.ended_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM {scenario.Schema}_ledger AS r WHERE r.job_id = l.job_id AND r.node <> '{victim}' AND r.outcome = 'returned')
            """));
        AssertNoStatementMixUp(scenario);
        await scenario.CheckAsync();
    }

    [PgBouncerTheory]
    [InlineData(Wakeup.PollOnly)]
    [InlineData(Wakeup.DirectListen)]
    public async Task PostgresRestartedImmediatelyUnderLoad_EveryReturnedEnqueueIsStored_ThroughputRecoversWithin30s(Wakeup wakeup)
    {
        var server = await PostgresServer.GetAsync();
        Skip.If(server.DataDirectory is null, $"Restarting the server needs the throw-away cluster; {PostgresServer.EnvironmentVariable} names an external one.");
        await using var scenario = await Scenario.CreateAsync(database);
        await using var bouncer = await BehindPgBouncer.StartAsync(scenario, wakeup);
        await scenario.StartNodesAsync(2, bouncer.Node);
        using var stopLoad = new CancellationTokenSource();
        var load = Task.Run(() => EnqueueSteadilyAsync(bouncer, stopLoad.Token));
        await scenario.UntilCountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded'", 1_500, "fifteen seconds of steady load");

        await using (await scenario.FaultAsync("postgres restart -m immediate"))
        {
            await Task.Run(server.RestartImmediately);
        }

        var (restartedAt, before) = await RestartFiguresAsync(scenario);
        await scenario.UntilAsync(async () => await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_faults WHERE now() > ended_at + interval '40 seconds'") > 0,
            "forty seconds of load after the restart");
        await stopLoad.CancelAsync();
        var (enqueued, failed) = await load;
        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(0L, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state <> 'succeeded'"));
        var recovered = await scenario.CountAsync($"""
            SELECT coalesce(min(extract(epoch FROM w.at - '{restartedAt:O}'::timestamptz) * 1000)::bigint, -1)
            FROM generate_series('{restartedAt:O}'::timestamptz, '{restartedAt:O}'::timestamptz + interval '35 seconds', interval '250 milliseconds') AS w(at)
            WHERE (SELECT count(*) FROM {scenario.Schema}.jobs WHERE finished_at >= w.at AND finished_at < w.at + interval '5 seconds') >= {before / 2}
            """);
        output.WriteLine($"{wakeup}: {before} jobs per 5 s before the restart; a 5-second window finished half as many {recovered} ms after it; {enqueued} enqueues returned, {failed} failed.");
        Assert.True(recovered is >= 0 and <= 25_000,
            $"Throughput did not recover within 30 s of the restart: no 5-second window starting within 25 s finished half of the {before} jobs of a 5-second window before it ({enqueued} enqueues returned, {failed} failed).");
        AssertNoStatementMixUp(scenario);
        await scenario.CheckAsync();
    }

    [PgBouncerTheory]
    [InlineData(Wakeup.PollOnly)]
    [InlineData(Wakeup.DirectListen)]
    public async Task TenNodesContendOnOneQueue_InvariantsHold_NoDeadlock(Wakeup wakeup)
    {
        const int Jobs = 20_000;
        await using var scenario = await Scenario.CreateAsync(database);
        await using var bouncer = await BehindPgBouncer.StartAsync(scenario, wakeup);
        var deadlocksBefore = await Deadlocks(scenario);
        // One at a time: ten processes starting at once on two cores would not all be ready within a minute. Leases of
        // 30 s: the scenario is about contention, not about telling a starved node from a dead one.
        for (var node = 0; node < 10; node++)
        {
            await scenario.StartNodeAsync(bouncer.Node(scenario.NextNode() with { LeaseMilliseconds = 30_000, RenewMilliseconds = 5_000 }));
        }

        int[] priorities = [0, 3, 5, 9];
        for (var chunk = 0; chunk < Jobs / 500; chunk++)
        {
            await bouncer.EnqueueAsync(Enumerable.Range(0, 500).Select(_ => new WorkJob()).ToList(), new JobOptions { Priority = priorities[chunk % priorities.Length] });
        }

        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(10));
        output.WriteLine($"{wakeup}: {Jobs} jobs in {await scenario.CountAsync("SELECT (extract(epoch FROM max(ended_at) - min(started_at)) * 1000)::bigint FROM {schema}_ledger")} ms on ten nodes.");
        Assert.Equal((long)Jobs, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded' AND attempt = 1"));
        Assert.Equal(10L, await scenario.CountAsync("SELECT count(DISTINCT node) FROM {schema}_ledger"));
        Assert.Equal(deadlocksBefore, await Deadlocks(scenario));
        Assert.DoesNotContain("deadlock", scenario.NodeOutput(), StringComparison.OrdinalIgnoreCase);
        AssertNoStatementMixUp(scenario);
        await scenario.CheckAsync();
    }

    // Through a transaction-mode pooler, a statement prepared on one server connection is missing on another, or another
    // statement holds its name there (26000, 42P05, or a bind with the wrong parameters): the store must not prepare.
    private static void AssertNoStatementMixUp(Scenario scenario) =>
        Assert.DoesNotContain("prepared statement", scenario.NodeOutput(), StringComparison.Ordinal);

    private static Task<long> Deadlocks(Scenario scenario) => scenario.CountAsync("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");

    // The restart's end on the database clock, and how many jobs finished in the average 5-second window of the
    // 10 seconds before it.
    private static async Task<(DateTime RestartedAt, long Before)> RestartFiguresAsync(Scenario scenario)
    {
        await using var command = scenario.DataSource.CreateCommand($"""
            SELECT f.ended_at,
                   (SELECT count(*) FROM {scenario.Schema}.jobs WHERE finished_at >= f.started_at - interval '10 seconds' AND finished_at < f.started_at) / 2
            FROM {scenario.Schema}_faults AS f
            """);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetDateTime(0), reader.GetInt64(1));
    }

    // Ten jobs every 100 ms through PgBouncer until stopped; enqueues that fail (the server is restarting) are counted
    // and not tracked: they may or may not have committed.
    private static async Task<(int Enqueued, int Failed)> EnqueueSteadilyAsync(BehindPgBouncer bouncer, CancellationToken stop)
    {
        var (enqueued, failed) = (0, 0);
        var jobs = Enumerable.Range(0, 10).Select(_ => new WorkJob(50)).ToList();
        var clock = Stopwatch.StartNew();
        for (var tick = 1; !stop.IsCancellationRequested; tick++)
        {
            try
            {
                enqueued += (await bouncer.EnqueueAsync(jobs)).Count;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                failed += jobs.Count;
            }

            var next = TimeSpan.FromMilliseconds(100 * tick) - clock.Elapsed;
            if (next > TimeSpan.Zero)
            {
                await Task.Delay(next, CancellationToken.None);
            }
        }

        return (enqueued, failed);
    }
}
