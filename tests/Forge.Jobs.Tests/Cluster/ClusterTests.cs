using System.Diagnostics;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Forge.Jobs.Tests.Cluster;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTestGroup
{
    public const string Name = "cluster";
}

/// <summary>Several nodes, each an OS process of its own, against one database: the acceptance tests of the
/// PostgreSQL store. Each job records every execution in a ledger table, so the test counts executions.</summary>
[Collection(ClusterTestGroup.Name)]
public sealed class ClusterTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private static int _schemas;
    private readonly List<NodeProcess> _nodes = [];
    private readonly string _schema = $"cluster_{Interlocked.Increment(ref _schemas)}";
    private NpgsqlDataSource? _dataSource;
    private PostgresJobStore? _store;

    private NpgsqlDataSource DataSource => _dataSource!;

    private PostgresJobStore Store => _store!;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        _store = new PostgresJobStore(_dataSource, ownsDataSource: false, new PostgresStoreOptions { Schema = _schema }, new PostgresNotifier(_dataSource, ownsDataSource: false, NullLogger.Instance));
        await _store.InitializeAsync(default);
        await DataSource.ExecuteAsync($"CREATE TABLE {_schema}_ledger (job_id bigint NOT NULL, attempt integer NOT NULL, node text NOT NULL, n integer NOT NULL)");
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await _store!.DisposeAsync();
        await _dataSource!.DisposeAsync();
    }

    [Fact]
    public async Task ThreeNodeProcesses_TwentyThousandJobs_EachSucceedsExactlyOnce()
    {
        await EnqueueAsync(20_000);
        await StartNodesAsync(3, concurrency: 16, maxWorkMilliseconds: 0);

        await UntilSucceededAsync(20_000);
        await StopNodesAsync();

        Assert.Equal(20_000L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}_ledger"));
        Assert.Equal(20_000L, await DataSource.ScalarAsync<long>($"SELECT count(DISTINCT job_id) FROM {_schema}_ledger"));
        Assert.Equal(20_000L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}.jobs WHERE state = 'succeeded' AND attempt = 1"));
        Assert.Equal(3L, await DataSource.ScalarAsync<long>($"SELECT count(DISTINCT node) FROM {_schema}_ledger"));
    }

    [Fact]
    public async Task NodeKilledMidRun_EveryJobStillSucceeds_AndOnlyItsJobsRunAgain()
    {
        await EnqueueAsync(20_000);
        await StartNodesAsync(3, concurrency: 16, maxWorkMilliseconds: 20);
        var victim = _nodes[1];
        await UntilAsync(async () => await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}_ledger WHERE node = '{victim.NodeId}'") >= 1_000, "the victim node to run 1,000 jobs");

        await victim.KillAsync();
        await UntilSucceededAsync(20_000);
        await StopNodesAsync();

        Assert.Equal(20_000L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}.jobs WHERE state = 'succeeded'"));
        Assert.Equal(20_000L, await DataSource.ScalarAsync<long>($"SELECT count(DISTINCT job_id) FROM {_schema}_ledger"));
        var rerunOfOthers = await DataSource.ScalarAsync<long>($"""
            SELECT count(*) FROM (SELECT job_id FROM {_schema}_ledger GROUP BY job_id HAVING count(*) > 1) AS rerun
            WHERE NOT EXISTS (SELECT 1 FROM {_schema}.job_attempts a WHERE a.job_id = rerun.job_id AND a.node = '{victim.NodeId}' AND a.outcome = 'lease_expired')
            """);
        Assert.Equal(0L, rerunOfOthers);
        var rescued = await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}.job_attempts WHERE node = '{victim.NodeId}' AND outcome = 'lease_expired'");
        Assert.True(rescued >= 1, "the killed node held leases that had to be rescued");
        Assert.Equal(rescued, await DataSource.ScalarAsync<long>($"""
            SELECT count(*) FROM {_schema}.jobs j
            WHERE j.attempt = 2 AND EXISTS (SELECT 1 FROM {_schema}.job_attempts a WHERE a.job_id = j.id AND a.outcome = 'lease_expired')
            """));
    }

    [SkippableFact]
    public async Task PostgresRestartedWhileJobsRun_NodesReconnectAndEveryJobFinishes()
    {
        var server = await PostgresServer.GetAsync();
        Skip.If(server.DataDirectory is null, $"Restarting the server needs the throw-away cluster; {PostgresServer.EnvironmentVariable} names an external one.");
        await EnqueueAsync(5_000);
        await StartNodesAsync(2, concurrency: 8, maxWorkMilliseconds: 20);
        await UntilAsync(async () => await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}_ledger") >= 500, "500 jobs to run");

        PostgresBinaries.Run(Path.Combine(server.BinDirectory!, "pg_ctl"), ["-D", server.DataDirectory!, "-m", "immediate", "-w", "-t", "60", "restart"], asPostgres: Environment.UserName == "root");
        NpgsqlConnection.ClearAllPools();
        await UntilSucceededAsync(5_000);
        await StopNodesAsync();

        Assert.Equal(5_000L, await DataSource.ScalarAsync<long>($"SELECT count(DISTINCT job_id) FROM {_schema}_ledger"));
        Assert.All(_nodes, node => Assert.DoesNotContain("Unhandled exception", node.Output, StringComparison.Ordinal));
    }

    private async Task EnqueueAsync(int count)
    {
        for (var first = 0; first < count; first += 5_000)
        {
            var jobs = Enumerable.Range(first, Math.Min(5_000, count - first)).Select(n => TestJobs.New(type: "ledger", payload: $$"""{"n":{{n}}}""")).ToList();
            await Store.InsertManyAsync(jobs, default);
        }
    }

    private async Task StartNodesAsync(int count, int concurrency, int maxWorkMilliseconds)
    {
        var started = await Task.WhenAll(Enumerable.Range(1, count).Select(i =>
            NodeProcess.StartAsync(database.ConnectionString, _schema, $"{_schema}-node-{i}", concurrency, maxWorkMilliseconds)));
        _nodes.AddRange(started);
    }

    private async Task StopNodesAsync()
    {
        foreach (var node in _nodes)
        {
            await node.StopAsync();
        }
    }

    private Task UntilSucceededAsync(int count) =>
        UntilAsync(async () => await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {_schema}.jobs WHERE state = 'succeeded'") == count, $"all {count:N0} jobs to succeed");

    /// <summary>Re-checks a condition that other processes make true, until it holds or two minutes pass.</summary>
    private async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (NpgsqlException) when (elapsed.Elapsed < TimeSpan.FromMinutes(2))
            {
                // The server may be restarting.
            }

            if (elapsed.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new TimeoutException($"Timed out waiting for {what}. Node output:\n{string.Join("\n", _nodes.Select(n => $"[{n.NodeId}]\n{n.Output}"))}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }
}
