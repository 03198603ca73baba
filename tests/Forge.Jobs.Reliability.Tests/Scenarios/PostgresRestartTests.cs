using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 4: PostgreSQL restarted with <c>-m immediate</c> three times under load: every enqueue that returned
/// is stored; throughput recovers within 30 s; LISTEN is re-established.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class PostgresRestartTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Restarts = 3;
    private const string LoadQueue = "load";
    private const string ProbeQueue = "probe";
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(30);

    /// <summary>The probe node polls this rarely, so that only a notification can make it pick a job up sooner.</summary>
    private static readonly TimeSpan ProbePoll = TimeSpan.FromSeconds(60);

    /// <summary>A job picked up this soon by the probe node was not found by its poll.</summary>
    private static readonly TimeSpan NotifiedPickup = TimeSpan.FromSeconds(5);

    [FullSetFact]
    public async Task ImmediateRestartsUnderLoad_ReturnedEnqueuesAreStored_CompletionsResumeWithin30s_ListenComesBack()
    {
        var server = await PostgresServer.GetAsync();
        Skip.If(server.DataDirectory is null, $"Restarting the server needs the throw-away cluster; {PostgresServer.EnvironmentVariable} names an external one.");
        await using var scenario = await Scenario.CreateAsync(database);
        // The load goes to a queue of its own, and the probe node serves only the probe queue (and "default", which
        // every node serves and nothing here uses): nothing but a probe job, or its notification, wakes it.
        await scenario.StartNodesAsync(2, n => n with { Queues = new Dictionary<string, int> { [LoadQueue] = 16 } });
        var probe = await scenario.StartNodeAsync(scenario.NextNode() with
        {
            Queues = new Dictionary<string, int> { [ProbeQueue] = 1 },
            PollMilliseconds = (int)ProbePoll.TotalMilliseconds,
        });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var first = NewEnqueuer(scenario, new Random(1));
        await using var second = NewEnqueuer(scenario, new Random(2));
        for (var restart = 1; restart <= Restarts; restart++)
        {
            await scenario.UntilCountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded' AND finished_at > coalesce((SELECT max(ended_at) FROM {schema}_faults), '-infinity')",
                100, "100 jobs to succeed since the last restart");
            await using (await scenario.FaultAsync("pg-restart"))
            {
                await Task.Run(server.RestartImmediately);
            }

            // The fault starts before pg_ctl is called, on the database clock; completions after it are stored by the
            // new server, whose clock is the same.
            await scenario.UntilCountAsync($"SELECT count(*) FROM {scenario.Schema}.jobs WHERE finished_at >= pg_postmaster_start_time()", 1, $"a job to complete after restart {restart}");
            var (down, recovered) = await ReadRecoveryAsync(scenario);
            output.WriteLine($"[{clock.Elapsed}] Restart {restart}: server back {down.TotalSeconds:F3} s and the first job completed {recovered.TotalSeconds:F3} s after the restart began.");
            Assert.True(recovered <= RecoveryBound, $"Restart {restart}: the first job completed {recovered.TotalSeconds:F3} s after the restart began, past {RecoveryBound.TotalSeconds} s.");
        }

        // The probe node's LISTEN connection is back (a new session, after the last restart, that ran LISTEN), and it
        // hears enqueues: it picks each job up far sooner than its 60-second poll would. The first probe job may wait
        // out the claim backoff the restart left the node in (a failed claim is retried after 100 ms, doubling up to
        // 30 s, and a notification does not cut that wait short); once it has run, the node claims on notifications.
        await scenario.UntilCountAsync($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{probe.NodeId}' AND query ILIKE 'LISTEN%' AND backend_start >= pg_postmaster_start_time()",
            1, "the probe node to listen again");
        await UntilIdleAsync(scenario, probe);
        var warmUp = await ProbeAsync(scenario, probe);
        output.WriteLine($"[{clock.Elapsed}] The first probe job after the restarts started {warmUp.TotalMilliseconds:F0} ms after its enqueue.");
        for (var i = 0; i < 3; i++)
        {
            var pickup = await ProbeAsync(scenario, probe);
            output.WriteLine($"[{clock.Elapsed}] Probe job started {pickup.TotalMilliseconds:F0} ms after its enqueue.");
            Assert.True(pickup <= NotifiedPickup, $"A probe job started {pickup.TotalSeconds:F3} s after its enqueue: the node found it by polling, not by notification.");
        }

        await first.StopAsync();
        await second.StopAsync();
        output.WriteLine($"[{clock.Elapsed}] Enqueue calls: {first.Stored + second.Stored} returned, {first.Failed + second.Failed} failed.");
        Assert.True(first.Failed + second.Failed > 0, "some enqueue calls ran into a restart");
        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(3));
        output.WriteLine($"[{clock.Elapsed}] {await ReadRatesAsync(scenario)}");
        Assert.All(scenario.Nodes, node =>
        {
            Assert.False(node.HasExited, $"Node {node.NodeId} exited.");
            Assert.DoesNotContain("Unhandled exception", node.Output, StringComparison.Ordinal);
        });
        await scenario.CheckAsync();
    }

    /// <summary>One job of 20–200 ms at a time, about 50 a second.</summary>
    private static SteadyEnqueuer<WorkJob> NewEnqueuer(Scenario scenario, Random random) =>
        new(scenario, TimeSpan.FromMilliseconds(20), () => new WorkJob(random.Next(20, 201)), new JobOptions { Queue = LoadQueue });

    // Enqueues a job only the probe node serves and returns how long after its enqueue it started (database clock),
    // once the node is idle again.
    private static async Task<TimeSpan> ProbeAsync(Scenario scenario, NodeProcess probe)
    {
        var id = (await scenario.EnqueueAsync([new WorkJob()], new JobOptions { Queue = ProbeQueue }))[0].Value;
        await scenario.UntilCountAsync($"SELECT count(*) FROM {scenario.Schema}.jobs WHERE id = {id} AND state = 'succeeded'", 1, $"probe job {id} to succeed");
        await UntilIdleAsync(scenario, probe);
        return TimeSpan.FromMilliseconds(await scenario.CountAsync($"""
            SELECT (extract(epoch FROM l.started_at - j.created_at) * 1000)::bigint
            FROM {scenario.Schema}.jobs j JOIN {scenario.Schema}_ledger l ON l.job_id = j.id WHERE j.id = {id}
            """));
    }

    // Idle at two readings in a row: no claim in flight (a claim holds the slots it offers) and nothing held, so its
    // fetcher sleeps until its poll or a notification.
    private static async Task UntilIdleAsync(Scenario scenario, NodeProcess node)
    {
        var idle = 0;
        await scenario.UntilAsync(async () => (idle = await node.LoadAsync() == default ? idle + 1 : 0) >= 2, "the probe node to be idle");
    }

    // From the start of the last restart (recorded before pg_ctl ran) to the new server's start, and to the first
    // completion it stored.
    private static async Task<(TimeSpan Down, TimeSpan Recovered)> ReadRecoveryAsync(Scenario scenario)
    {
        var restartedAt = $"(SELECT max(started_at) FROM {scenario.Schema}_faults WHERE kind = 'pg-restart')";
        var down = await scenario.CountAsync($"SELECT (extract(epoch FROM pg_postmaster_start_time() - {restartedAt}) * 1000)::bigint");
        var recovered = await scenario.CountAsync($"""
            SELECT (extract(epoch FROM min(finished_at) - {restartedAt}) * 1000)::bigint
            FROM {scenario.Schema}.jobs WHERE finished_at >= pg_postmaster_start_time()
            """);
        return (TimeSpan.FromMilliseconds(down), TimeSpan.FromMilliseconds(recovered));
    }

    // Completions a second in the 10 s before the first restart and in the 10 s after the last one's first completion.
    private static async Task<string> ReadRatesAsync(Scenario scenario)
    {
        var before = await scenario.CountAsync($"""
            SELECT count(*) FROM {scenario.Schema}.jobs
            WHERE finished_at BETWEEN (SELECT min(started_at) FROM {scenario.Schema}_faults) - interval '10 s' AND (SELECT min(started_at) FROM {scenario.Schema}_faults)
            """);
        var after = await scenario.CountAsync($"""
            SELECT count(*) FROM {scenario.Schema}.jobs, (SELECT min(finished_at) AS first FROM {scenario.Schema}.jobs WHERE finished_at >= pg_postmaster_start_time()) AS r
            WHERE finished_at BETWEEN r.first AND r.first + interval '10 s'
            """);
        return $"Completions a second: {before / 10.0:F1} before the first restart, {after / 10.0:F1} in the 10 s after the last restart's first completion.";
    }
}
