using System.Globalization;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 10: clock skew between nodes. Three nodes whose clocks (their <see cref="TimeProvider"/>) are five
/// minutes slow, right and five minutes fast share a cron schedule every 2 seconds, jobs delayed by up to 15 seconds and
/// jobs that outlive their lease 2.5 times over. Leadership passes from node to node (each leader is stopped gracefully in
/// turn) so that every clock plans the schedule for a while. No job starts before its run-at, and no delayed job's run-at
/// comes before its enqueue plus its delay (both on the database clock); no lease is rescued, since every node stays
/// healthy; and each cron occurrence is enqueued once, none is missing, and none is enqueued before its time by the
/// database clock.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class ClockSkewTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const string Tick = "schedule:tick:";

    /// <summary>The occurrences each leader must enqueue before leadership moves on.</summary>
    private const int OccurrencesPerLeader = 4;

    private static readonly double[] Offsets = [-300, 0, 300];

    [FullSetFact]
    public async Task NodesFiveMinutesApart_NoEarlyRun_NoRescueOfALiveLease_EachCronOccurrenceOnce()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        NodeSettings Node(double offset) => scenario.NextNode() with
        {
            ClockOffsetSeconds = offset,
            Cron = "*/2 * * * * *",
            Queues = new Dictionary<string, int> { ["default"] = 8, ["long"] = 8 },
            ShutdownMilliseconds = 2_000,
        };

        var nodes = (await Task.WhenAll(Offsets.Select(o => scenario.StartNodeAsync(Node(o))))).ToList();

        // 24 jobs that outlive the 6-second lease fill every node's "long" slots, so every clock renews leases.
        await scenario.EnqueueAsync([.. Enumerable.Range(0, 24).Select(_ => new WorkJob(15_000))], new JobOptions { Queue = "long" });
        var delayed = new Dictionary<long, int>();
        for (var i = 1; i <= 30; i++)
        {
            delayed.Add((await scenario.EnqueueAsync([new WorkJob(100)], new JobOptions { Delay = TimeSpan.FromMilliseconds(500 * i) }))[0].Value, 500 * i);
        }

        var delays = $"unnest('{{{string.Join(",", delayed.Keys)}}}'::bigint[], '{{{string.Join(",", delayed.Values)}}}'::integer[]) AS d(id, ms)";

        // Each leader plans some occurrences on its own skewed clock, then is stopped, until all three have led.
        var led = new List<string>();
        var stopped = new List<NodeProcess>();
        for (var round = 0; round < Offsets.Length; round++)
        {
            string? leader = null;
            await scenario.UntilAsync(async () => (leader = await LeaderAsync(scenario)) is { } holder && !led.Contains(holder), "a node that has not led yet to lead");
            led.Add(leader!);
            var since = await scenario.DataSource.ScalarAsync<DateTime>("SELECT now()");
            await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE idempotency_key LIKE '{Tick}%' AND created_at > '{since:O}'", OccurrencesPerLeader, $"{leader} to enqueue {OccurrencesPerLeader} occurrences");
            Assert.Equal(leader, await LeaderAsync(scenario));
            if (round < Offsets.Length - 1)
            {
                var node = nodes.Single(n => n.NodeId == leader);
                await using (await scenario.FaultAsync("sigterm", node))
                {
                    await node.StopAsync();
                }

                nodes.Remove(node);
                stopped.Add(node);
            }
        }

        nodes.AddRange(await Task.WhenAll(stopped.Select(n => scenario.StartNodeAsync(Node(n.Settings.ClockOffsetSeconds)))));
        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(3));
        Assert.True(await scenario.Client.PauseScheduleAsync("tick"));
        await scenario.UntilAllTerminalAsync();

        Assert.Equal(Offsets, led.Select(id => scenario.Nodes.First(n => n.NodeId == id).Settings.ClockOffsetSeconds).Order().ToArray());

        // A job handed back by a stopping node gets a new run-at, so each job's current attempt is judged by it.
        Assert.Equal(0L, await scenario.CountAsync("SELECT count(*) FROM {schema}_ledger AS l JOIN {schema}.jobs AS j ON j.id = l.job_id AND j.attempt = l.attempt WHERE l.started_at < j.run_at"));
        Assert.Equal(delayed.Count, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs AS j JOIN {delays} ON d.id = j.id WHERE j.run_at = j.created_at + d.ms * interval '1 millisecond'"));
        Assert.Equal(0L, await scenario.CountAsync("SELECT count(*) FROM {schema}.job_attempts WHERE outcome = 'lease_expired'"));
        Assert.Equal(24L, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE queue = 'long' AND state = 'succeeded'"));
        Assert.Equal(0L, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state <> 'succeeded'"));

        var occurrences = $"SELECT substr(idempotency_key, {Tick.Length + 1})::timestamptz AS at, created_at, count(*) OVER (PARTITION BY idempotency_key) AS copies FROM {{schema}}.jobs WHERE idempotency_key LIKE '{Tick}%'";
        var count = await scenario.CountAsync($"SELECT count(*) FROM ({occurrences}) AS o");
        Assert.Equal(0L, await scenario.CountAsync($"SELECT count(*) FROM ({occurrences}) AS o WHERE copies > 1"));
        Assert.Equal(0L, await scenario.CountAsync($"SELECT count(*) FROM ({occurrences}) AS o WHERE created_at < at"));
        Assert.Equal(count, await scenario.CountAsync($"SELECT (extract(epoch FROM max(at) - min(at)) / 2)::bigint + 1 FROM ({occurrences}) AS o"));

        var lateCron = await scenario.CountAsync($"SELECT (extract(epoch FROM max(created_at - at)) * 1000)::bigint FROM ({occurrences}) AS o");
        var lateDelayed = await scenario.CountAsync($"SELECT (extract(epoch FROM max(l.started_at - j.run_at)) * 1000)::bigint FROM {{schema}}_ledger AS l JOIN {{schema}}.jobs AS j ON j.id = l.job_id JOIN {delays} ON d.id = j.id");
        var runsPerNode = await scenario.CountAsync("SELECT min(n) FROM (SELECT count(*) AS n FROM {schema}_ledger AS l JOIN {schema}.jobs AS j ON j.id = l.job_id WHERE j.queue = 'long' GROUP BY l.node) AS per_node");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count} occurrences, each enqueued at most {lateCron} ms after its time; delayed jobs started at most {lateDelayed} ms after their run-at; leaders in turn: {string.Join(", ", led)}; fewest long runs on a node: {runsPerNode}"));
        await scenario.CheckAsync();
    }

    private static async Task<string?> LeaderAsync(Scenario scenario)
    {
        var holder = await scenario.DataSource.ScalarAsync<string>($"SELECT coalesce((SELECT holder FROM {scenario.Schema}.leases WHERE name = 'leader' AND expires_at > now()), '')");
        return holder.Length == 0 ? null : holder;
    }
}
