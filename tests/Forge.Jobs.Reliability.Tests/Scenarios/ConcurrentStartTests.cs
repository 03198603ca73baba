using System.Globalization;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 18: ten nodes starting at once on an empty database. Every node becomes ready; the migration table
/// records each migration once, all applied by one transaction (one node migrated, the others waited and found nothing
/// to do); restarting all ten at once re-applies nothing (the same rows, applied at the same times, and the same tables);
/// and a job enqueued afterwards runs.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class ConcurrentStartTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Nodes = 10;

    [FullSetFact]
    public async Task TenNodesOnAnEmptySchema_OneMigratesTheOthersWait_ARestartIsANoOp_AndAJobRuns()
    {
        await using var scenario = await Scenario.CreateAsync(database, migrate: false);
        Assert.Equal(0L, await scenario.CountAsync("SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'"));
        var started = DateTime.UtcNow;

        var first = await scenario.StartNodesAsync(Nodes);
        var firstReady = DateTime.UtcNow - started;
        var firstSpread = ReadySpread(first, started);

        Assert.All(first, node => Assert.False(node.HasExited, node.Output));
        Assert.All(first, node => Assert.DoesNotContain("fail:", node.Output, StringComparison.Ordinal));
        Assert.Equal(Nodes, (await scenario.Client.ListNodesAsync()).Count);
        var applied = await MigrationsAsync(scenario);
        Assert.Equal(PostgresSchema.Migrations().Select(m => (m.Version, m.Name)), applied.Select(m => (m.Version, m.Name)));
        Assert.Single(applied.Select(m => m.AppliedAt).Distinct());
        var relations = await RelationsAsync(scenario);

        await using (await scenario.FaultAsync("sigterm"))
        {
            foreach (var node in first)
            {
                node.Terminate();
            }

            await Task.WhenAll(first.Select(n => n.WaitForExitAsync(TimeSpan.FromSeconds(90))));
        }

        Assert.All(first, node => Assert.Equal(0, node.ExitCode));
        started = DateTime.UtcNow;
        var again = await Task.WhenAll(first.Select(n => scenario.StartNodeAsync(n.Settings)));
        var againReady = DateTime.UtcNow - started;
        var againSpread = ReadySpread(again, started);

        Assert.All(again, node => Assert.False(node.HasExited, node.Output));
        Assert.All(again, node => Assert.DoesNotContain("fail:", node.Output, StringComparison.Ordinal));
        Assert.Equal(Nodes, (await scenario.Client.ListNodesAsync()).Count);
        Assert.Equal(applied, await MigrationsAsync(scenario));
        Assert.Equal(relations, await RelationsAsync(scenario));

        var job = (await scenario.EnqueueAsync([new WorkJob()]))[0];
        await scenario.UntilAllTerminalAsync();
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {job.Value} AND state = 'succeeded'"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{applied.Count} migrations applied at {applied[0].AppliedAt:HH:mm:ss.ffffff}; ten nodes ready {firstReady.TotalSeconds:F1} s after launch on the empty schema (each after {firstSpread}), {againReady.TotalSeconds:F1} s on restart (each after {againSpread})"));
        await scenario.CheckAsync();
    }

    /// <summary>The seconds from launch to each node's "ready" line (stamped with the UTC time of day), in order.</summary>
    private static string ReadySpread(IEnumerable<NodeProcess> nodes, DateTime launched) => string.Join(", ", nodes
        .Select(n => n.Output.Split('\n').First(l => l.Contains(" ready ", StringComparison.Ordinal)))
        .Select(l => TimeSpan.ParseExact(l[..12], @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture) - launched.TimeOfDay)
        .Select(t => t < TimeSpan.Zero ? t + TimeSpan.FromDays(1) : t)
        .Order()
        .Select(t => t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)));

    private static async Task<List<(int Version, string Name, DateTime AppliedAt)>> MigrationsAsync(Scenario scenario)
    {
        await using var command = scenario.DataSource.CreateCommand($"SELECT version, name, applied_at FROM {scenario.Schema}.schema_migrations ORDER BY version");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, string, DateTime)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1), reader.GetDateTime(2)));
        }

        return rows;
    }

    /// <summary>The schema's tables, indexes and sequences with their object ids, which change if one is dropped and made again.</summary>
    private static async Task<List<string>> RelationsAsync(Scenario scenario)
    {
        await using var command = scenario.DataSource.CreateCommand($"SELECT c.relname || ':' || c.oid FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = '{scenario.Schema}' ORDER BY c.relname");
        await using var reader = await command.ExecuteReaderAsync();
        var relations = new List<string>();
        while (await reader.ReadAsync())
        {
            relations.Add(reader.GetString(0));
        }

        return relations;
    }
}
