using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

[Collection(ScenarioGroup.Name)]
public sealed class TmpDiagTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    [FullSetFact]
    public async Task Diag()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        NodeSettings Node() => scenario.NextNode() with { LeaseMilliseconds = 3000, RenewMilliseconds = 1_000, RescueMilliseconds = 500 };
        var stale = await scenario.StartNodeAsync(Node());
        var id = (await scenario.EnqueueAsync([new WorkJob(3_000)]))[0].Value;
        await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id}", 1, "start");
        var rescuer = await scenario.StartNodeAsync(Node());
        stale.Freeze();
        try
        {
            await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id} AND node = '{rescuer.NodeId}'", 1, "rerun", TimeSpan.FromSeconds(20));
            output.WriteLine("rerun ok");
        }
        catch (TimeoutException)
        {
            output.WriteLine("TIMEOUT");
        }

        await using (var c = scenario.DataSource.CreateCommand($"SELECT row_to_json(j)::text FROM {scenario.Schema}.jobs j UNION ALL SELECT row_to_json(a)::text FROM {scenario.Schema}.job_attempts a UNION ALL SELECT row_to_json(l)::text FROM {scenario.Schema}.leases l UNION ALL SELECT row_to_json(n)::text FROM {scenario.Schema}.nodes n UNION ALL SELECT now()::text"))
        await using (var r = await c.ExecuteReaderAsync())
        {
            while (await r.ReadAsync()) output.WriteLine(r.GetString(0));
        }

        output.WriteLine(scenario.NodeOutput());
        stale.Thaw();
    }
}
