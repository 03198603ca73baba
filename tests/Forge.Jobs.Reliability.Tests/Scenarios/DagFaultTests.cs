using System.Globalization;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 14: dependencies under faults. A parent killed mid-run (its node SIGKILLed) is rescued and runs again
/// elsewhere, and its child runs once, after the parent's success. Two hundred pairs of parents, enqueued together, each
/// pair run on two different nodes at once and working until the same instant so that they finish together, release each
/// child exactly once, and only after both of its parents succeeded.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class DagFaultTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Pairs = 200;
    private const int Concurrency = 50;

    [FullSetFact]
    public async Task ParentKilledMidRun_IsRescuedAndRerunElsewhere_ChildRunsOnceAfterItSucceeded()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        NodeSettings Node() => scenario.NextNode() with { LeaseMilliseconds = 3_000, RenewMilliseconds = 1_000, RescueMilliseconds = 500 };
        var nodes = await scenario.StartNodesAsync(2, _ => Node());
        var parent = (await scenario.EnqueueAsync([new WorkJob(3_000)]))[0];
        var child = (await scenario.EnqueueAsync([new WorkJob()], new JobOptions { DependsOn = [parent] }))[0];
        await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {parent.Value}", 1, "the parent to start");
        var runner = await scenario.DataSource.ScalarAsync<string>($"SELECT node FROM {scenario.Schema}_ledger WHERE job_id = {parent.Value}");
        var doomed = nodes.Single(n => n.NodeId == runner);
        var survivor = nodes.Single(n => n.NodeId != runner);

        await scenario.KillAsync(doomed);
        await scenario.UntilAllTerminalAsync();

        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.job_attempts WHERE job_id = {parent.Value} AND attempt = 1 AND node = '{doomed.NodeId}' AND outcome = 'lease_expired'"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {parent.Value} AND state = 'succeeded' AND attempt = 2 AND lease_owner = '{survivor.NodeId}'"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {child.Value} AND state = 'succeeded' AND attempt = 1"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {child.Value}"));
        var afterParent = await scenario.CountAsync($"""
            SELECT (extract(epoch FROM c.started_at - p.finished_at) * 1000)::bigint
            FROM {scenario.Schema}_ledger AS c, {scenario.Schema}.jobs AS p
            WHERE c.job_id = {child.Value} AND p.id = {parent.Value}
            """);
        Assert.True(afterParent > 0, $"The child started {afterParent} ms after its parent succeeded.");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the child started {afterParent} ms after its rescued parent succeeded"));
        await scenario.CheckAsync();
    }

    [FullSetFact]
    public async Task PairsOfParentsFinishingTogetherOnTwoNodes_EachChildRunsOnce_AfterBothSucceeded()
    {
        await using var scenario = await Scenario.CreateAsync(database);

        // Parents "a" run only on the left node, parents "b" only on the right one, 50 at a time and in id order; both
        // parents of a pair work until the same instant. Pairs end 80 ms apart, so a parent gets its slot 4 seconds before
        // its instant, when the parent 50 places before it ends.
        await scenario.StartNodeAsync(scenario.NextNode() with { Queues = new Dictionary<string, int> { ["left"] = Concurrency, ["default"] = 8 } });
        await scenario.StartNodeAsync(scenario.NextNode() with { Queues = new Dictionary<string, int> { ["right"] = Concurrency, ["default"] = 8 } });
        var first = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
        var workflow = new Workflow();
        for (var i = 0; i < Pairs; i++)
        {
            var at = first + (i * TimeSpan.FromMilliseconds(80));
            workflow.Add($"a{i}", new UntilJob(at), new JobOptions { Queue = "left" })
                .Add($"b{i}", new UntilJob(at), new JobOptions { Queue = "right" })
                .Add($"c{i}", new WorkJob(), [$"a{i}", $"b{i}"]);
        }

        var ids = await scenario.Client.EnqueueWorkflowAsync(workflow);
        scenario.Track(ids.Values);
        await scenario.UntilAllTerminalAsync();

        var pairs = string.Join(",", Enumerable.Range(0, Pairs).Select(i => $"({ids[$"a{i}"].Value},{ids[$"b{i}"].Value},{ids[$"c{i}"].Value})"));
        var family = $"(VALUES {pairs}) AS f(a, b, c) JOIN {scenario.Schema}.jobs AS a ON a.id = f.a JOIN {scenario.Schema}.jobs AS b ON b.id = f.b";
        Assert.Equal(3L * Pairs, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded' AND attempt = 1"));
        Assert.Equal(0L, await scenario.CountAsync($"SELECT count(*) FROM {family} WHERE a.lease_owner = b.lease_owner"));
        Assert.Equal(Pairs, await scenario.CountAsync($"SELECT count(*) FROM {family} WHERE (SELECT count(*) FROM {scenario.Schema}_ledger AS l WHERE l.job_id = f.c) = 1"));
        var early = await scenario.CountAsync($"""
            SELECT count(*) FROM {family} JOIN {scenario.Schema}_ledger AS l ON l.job_id = f.c
            WHERE l.started_at <= greatest(a.finished_at, b.finished_at)
            """);
        Assert.Equal(0L, early);

        var together = await scenario.CountAsync($"SELECT count(*) FROM {family} WHERE abs(extract(epoch FROM a.finished_at - b.finished_at)) < 0.010");
        var apart = await scenario.CountAsync($"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY (abs(extract(epoch FROM a.finished_at - b.finished_at)) * 1000)::bigint) FROM {family}");
        var ledgers = $"{family} JOIN {scenario.Schema}_ledger AS la ON la.job_id = f.a JOIN {scenario.Schema}_ledger AS lb ON lb.job_id = f.b";
        var overlapping = await scenario.CountAsync($"SELECT count(*) FROM {ledgers} WHERE la.ended_at > lb.started_at AND lb.ended_at > la.started_at");
        var returned = await scenario.CountAsync($"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY (abs(extract(epoch FROM la.ended_at - lb.ended_at)) * 1000)::bigint) FROM {ledgers}");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{together} of {Pairs} pairs stored their successes within 10 ms of each other (the median pair {apart} ms apart); {overlapping} pairs ran at the same time, and their handlers returned a median {returned} ms apart"));
        await scenario.CheckAsync();
    }
}
