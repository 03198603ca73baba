using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 3: a node frozen (SIGSTOP) for twice its lease, then thawed.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class StaleWorkerTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task FrozenPastItsLease_JobIsRescuedAndRunsElsewhere_AndTheStaleOutcomeChangesNothing()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        NodeSettings Node(NodeSettings next) => next with { LeaseMilliseconds = (int)Lease.TotalMilliseconds, RenewMilliseconds = 1_000, RescueMilliseconds = 500 };
        var nodes = await scenario.StartNodesAsync(2, Node);
        // Long enough to be running still when the node that took it is frozen; run again, it ends at once.
        var id = (await scenario.EnqueueAsync([new WorkJob(30_000, LaterMilliseconds: 0)]))[0].Value;
        await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id}", 1, "the job to start");
        var holder = await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id} AND node = '{nodes[0].NodeId}'");
        var (stale, rescuer) = holder == 1 ? (nodes[0], nodes[1]) : (nodes[1], nodes[0]);

        await using (await scenario.FaultAsync("sigstop", stale))
        {
            stale.Freeze();
            var frozen = Task.Delay(2 * Lease);
            await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id} AND node = '{rescuer.NodeId}'", 1, "the job to run again on the other node");
            await frozen;
            stale.Thaw();
        }

        await scenario.UntilAsync(() => Task.FromResult(stale.Output.Contains("the lease was lost", StringComparison.Ordinal)), "the stale node to log its lost lease");
        await scenario.UntilAllTerminalAsync();
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {id} AND state = 'succeeded' AND attempt = 2 AND lease_owner = '{rescuer.NodeId}'"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.job_attempts WHERE job_id = {id} AND attempt = 1 AND node = '{stale.NodeId}' AND outcome = 'lease_expired'"));
        Assert.Equal(1, CountOccurrences(stale.Output, $"Job {id} attempt 1: its outcome was not stored because the lease was lost"));
        await scenario.CheckAsync();
    }

    private static int CountOccurrences(string text, string value) => (text.Length - text.Replace(value, "", StringComparison.Ordinal).Length) / value.Length;
}
