using System.Collections.Concurrent;
using System.Diagnostics;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>One scenario's cluster: a schema of its own, its ledger, node processes, a client to enqueue through,
/// and the record of every fault it injects. <see cref="CheckAsync"/> ends a scenario by judging the invariants.</summary>
internal sealed class Scenario : IAsyncDisposable
{
    private static int _scenarios;
    private readonly ConcurrentQueue<long> _enqueued = new();
    private readonly List<NodeProcess> _nodes = [];
    private readonly ServiceProvider _services;
    private int _nodeCount;

    private Scenario(string connectionString, string schema, NpgsqlDataSource dataSource, ServiceProvider services)
    {
        ConnectionString = connectionString;
        Schema = schema;
        DataSource = dataSource;
        _services = services;
        Client = services.GetRequiredService<IJobClient>();
    }

    /// <summary>Straight to the scenario's database.</summary>
    public string ConnectionString { get; }

    public string Schema { get; }

    /// <summary>Straight to the database, for set-up, faults and assertions.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>A client in the test process, as an application that only enqueues would have.</summary>
    public IJobClient Client { get; }

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    /// <param name="database">The database the scenario's schema goes in.</param>
    /// <param name="migrate">Whether to create the Forge.Jobs schema; without it, the first node to start creates it.</param>
    public static async Task<Scenario> CreateAsync(PostgresDatabase database, bool migrate = true)
    {
        var schema = $"s{Interlocked.Increment(ref _scenarios)}";
        var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var services = new ServiceCollection()
            .AddLogging()
            .AddForgeJobs(forge => forge
                .UsePostgres(database.ConnectionString, o => o.Schema = schema)
                .AddHandler<WorkHandler, WorkJob>()
                .AddHandler<FailFastHandler, FailFastJob>()
                .AddHandler<TransactionalHandler, TransactionalJob>())
            .BuildServiceProvider();
        var scenario = new Scenario(database.ConnectionString, schema, dataSource, services);
        if (migrate)
        {
            await dataSource.ExecuteAsync(ForgeJobsPostgres.GetMigrationScript(schema));
        }

        await dataSource.ExecuteAsync($"""
            CREATE TABLE {schema}_ledger (id bigserial PRIMARY KEY, job_id bigint NOT NULL, attempt integer NOT NULL, node text NOT NULL,
                lease_owner text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz, outcome text);
            CREATE TABLE {schema}_effects (job_id bigint NOT NULL, attempt integer NOT NULL);
            CREATE TABLE {schema}_faults (id bigserial PRIMARY KEY, node text, kind text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz);
            """);
        return scenario;
    }

    /// <summary>The settings of the next node: straight to the database, lease 6 s renewed every 2 s, rescue every
    /// second, queue "default" with 8 executors.</summary>
    public NodeSettings NextNode() => new()
    {
        NodeId = $"{Schema}-node-{Interlocked.Increment(ref _nodeCount)}",
        ConnectionString = ConnectionString,
        LedgerConnectionString = ConnectionString,
        Schema = Schema,
    };

    public async Task<NodeProcess> StartNodeAsync(NodeSettings settings)
    {
        var node = NodeProcess.Launch(settings);
        lock (_nodes)
        {
            _nodes.Add(node);
        }

        await node.Ready;
        return node;
    }

    public async Task<IReadOnlyList<NodeProcess>> StartNodesAsync(int count, Func<NodeSettings, NodeSettings>? configure = null) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => StartNodeAsync(configure is null ? NextNode() : configure(NextNode()))));

    public async Task<IReadOnlyList<JobId>> EnqueueAsync<TJob>(IReadOnlyList<TJob> jobs, JobOptions? options = null)
    {
        var ids = new List<JobId>(jobs.Count);
        foreach (var chunk in jobs.Chunk(5_000))
        {
            ids.AddRange(await Client.EnqueueManyAsync(chunk, options));
        }

        Track(ids);
        return ids;
    }

    /// <summary>Adds ids that an enqueue call returned to those invariant I1 checks.</summary>
    public void Track(IEnumerable<JobId> ids)
    {
        foreach (var id in ids)
        {
            _enqueued.Enqueue(id.Value);
        }
    }

    /// <summary>Records a fault from now until the returned handle is disposed.</summary>
    public async Task<IAsyncDisposable> FaultAsync(string kind, NodeProcess? node = null)
    {
        var id = await DataSource.ScalarAsync<long>($"INSERT INTO {Schema}_faults (node, kind, started_at) VALUES ({Literal(node?.NodeId)}, {Literal(kind)}, clock_timestamp()) RETURNING id");
        return new FaultEnd(this, id);
    }

    /// <summary>SIGKILL, recorded as a fault of that instant.</summary>
    public async Task KillAsync(NodeProcess node)
    {
        await using (await FaultAsync("sigkill", node))
        {
            await node.KillAsync();
        }
    }

    public Task<long> CountAsync(string sql) => DataSource.ScalarAsync<long>(sql.Replace("{schema}", Schema, StringComparison.Ordinal));

    public Task UntilCountAsync(string sql, long atLeast, string what, TimeSpan? limit = null) =>
        UntilAsync(async () => await CountAsync(sql) >= atLeast, what, limit);

    public Task UntilAllTerminalAsync(TimeSpan? limit = null) =>
        UntilAsync(async () => await CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state NOT IN ('succeeded', 'dead', 'cancelled')") == 0, "every job to end", limit);

    /// <summary>Re-checks a condition that other processes make true, until it holds or <paramref name="limit"/>
    /// (default two minutes) passes; a database that is restarting counts as not yet.</summary>
    public async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var deadline = limit ?? TimeSpan.FromMinutes(2);
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
            catch (NpgsqlException) when (elapsed.Elapsed < deadline)
            {
            }

            if (elapsed.Elapsed > deadline)
            {
                throw new TimeoutException($"Timed out after {deadline} waiting for {what}.\n{NodeOutput()}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Waits for the live nodes to be quiet, then judges the invariants I1–I7 and throws on any broken one.</summary>
    public async Task CheckAsync(IReadOnlySet<long>? mayBePending = null)
    {
        var live = _nodes.Where(n => !n.HasExited).ToList();
        var quiet = new List<QuietNode>();
        try
        {
            await UntilAsync(async () =>
            {
                quiet = [.. await Task.WhenAll(live.Select(QuietAsync))];
                return quiet.All(n => n.Load == default && n.BusyConnections == 0);
            }, "the live nodes to be quiet", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            // Judged below: I7 names the nodes still busy in the last reading.
        }

        var evidence = await ReadEvidenceAsync(quiet, mayBePending);
        try
        {
            InvariantChecker.Assert(evidence);
        }
        catch (InvariantViolationException exception)
        {
            throw new InvariantViolationException(exception.Violations, NodeOutput());
        }
    }

    public async Task<Evidence> ReadEvidenceAsync(IReadOnlyCollection<QuietNode>? quiet = null, IReadOnlySet<long>? mayBePending = null)
    {
        var jobs = new List<StoredJob>();
        await using (var command = DataSource.CreateCommand($"SELECT id, state::text, attempt FROM {Schema}.jobs"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                jobs.Add(new StoredJob(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2)));
            }
        }

        var executions = new List<Execution>();
        await using (var command = DataSource.CreateCommand($"SELECT job_id, attempt, node, lease_owner, started_at, ended_at, outcome FROM {Schema}_ledger"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                executions.Add(new Execution(reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetDateTime(4),
                    reader.IsDBNull(5) ? null : reader.GetDateTime(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
            }
        }

        var faults = new List<Fault>();
        await using (var command = DataSource.CreateCommand($"SELECT node, kind, started_at, coalesce(ended_at, 'infinity') FROM {Schema}_faults"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                faults.Add(new Fault(reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetString(1), reader.GetDateTime(2),
                    reader.GetFieldValue<DateTime>(3)));
            }
        }

        return new Evidence
        {
            Enqueued = [.. _enqueued],
            Jobs = jobs,
            Executions = executions,
            Faults = faults,
            QuietNodes = quiet ?? [],
            MayBePending = mayBePending ?? new HashSet<long>(),
        };
    }

    public string NodeOutput() => string.Join("\n", _nodes.Select(n => $"[{n.NodeId}]{(n.HasExited ? $" exited {n.ExitCode}" : "")}\n{n.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        await _services.DisposeAsync();
        await DataSource.DisposeAsync();
    }

    private async Task<QuietNode> QuietAsync(NodeProcess node)
    {
        var load = await node.LoadAsync();
        var busy = await DataSource.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE application_name = {Literal(node.NodeId)} AND state <> 'idle'");
        return new QuietNode(node.NodeId, load, (int)busy);
    }

    private static string Literal(string? value) => value is null ? "NULL" : $"'{value.Replace("'", "''", StringComparison.Ordinal)}'";

    private sealed class FaultEnd(Scenario scenario, long id) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() =>
            await scenario.UntilAsync(async () =>
            {
                await scenario.DataSource.ExecuteAsync($"UPDATE {scenario.Schema}_faults SET ended_at = clock_timestamp() WHERE id = {id}");
                return true;
            }, "the fault's end to be recorded");
    }
}
