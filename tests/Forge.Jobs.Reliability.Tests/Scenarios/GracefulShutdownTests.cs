using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 2: SIGTERM with jobs shorter and longer than <c>ShutdownTimeout</c>.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class GracefulShutdownTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Sigterm_ShortJobsFinish_LongOnesAreHandedBackAndStartElsewhereWithinASecond()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        // A lease far longer than the test: a job that waited for it to lapse would fail the test's time limit.
        // The long jobs outlast the test unless shutdown hands them back; run again, they end at once.
        var stopping = await scenario.StartNodeAsync(scenario.NextNode() with { Queues = new Dictionary<string, int> { ["default"] = 4 }, ShutdownMilliseconds = 10_000, LeaseMilliseconds = 120_000, RenewMilliseconds = 10_000 });
        var shortJobs = await scenario.EnqueueAsync([new WorkJob(5_000), new WorkJob(5_000)]);
        var longJobs = await scenario.EnqueueAsync([new WorkJob(600_000, LaterMilliseconds: 0), new WorkJob(600_000, LaterMilliseconds: 0)]);
        await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE node = '{stopping.NodeId}'", 4, "the stopping node to start all four jobs");
        var taker = await scenario.StartNodeAsync(scenario.NextNode() with { LeaseMilliseconds = 120_000, RenewMilliseconds = 10_000 });

        await using (await scenario.FaultAsync("sigterm", stopping))
        {
            stopping.Terminate();
            await stopping.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        Assert.Equal(0, stopping.ExitCode);
        Assert.Equal(0L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE state = 'running' AND lease_owner = '{stopping.NodeId}'"));
        await scenario.UntilAllTerminalAsync();
        foreach (var id in shortJobs)
        {
            Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id.Value} AND node = '{stopping.NodeId}' AND outcome = 'returned'"));
        }

        foreach (var id in longJobs)
        {
            Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id.Value} AND node = '{stopping.NodeId}' AND outcome = 'cancelled'"));
            Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {id.Value} AND state = 'succeeded' AND attempt = 2 AND failures = 0"));
            var handedBackToStarted = await scenario.CountAsync($"""
                SELECT (extract(epoch FROM l.started_at - a.finished_at) * 1000)::bigint
                FROM {scenario.Schema}.job_attempts a JOIN {scenario.Schema}_ledger l ON l.job_id = a.job_id AND l.node = '{taker.NodeId}'
                WHERE a.job_id = {id.Value} AND a.outcome = 'interrupted' AND a.node = '{stopping.NodeId}'
                """);
            Assert.InRange(handedBackToStarted, 0, 1_000);
        }

        await scenario.CheckAsync();
    }
}
