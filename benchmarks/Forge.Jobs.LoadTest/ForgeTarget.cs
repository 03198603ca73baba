using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Forge.Jobs.LoadTest;

/// <summary>Forge.Jobs on PostgreSQL, in its own schema. The coordinator only enqueues: it builds the client without
/// starting a node.</summary>
internal sealed class ForgeTarget : ILoadTarget
{
    public const string Queue = "load";
    private static readonly JobOptions Options = new() { Queue = Queue };

    private readonly string _schema;
    private readonly ServiceProvider _services;
    private readonly IJobClient _client;
    private readonly NpgsqlDataSource _dataSource;

    public ForgeTarget(string connectionString, string schema)
    {
        ConnectionString = connectionString;
        _schema = schema;
        _services = new ServiceCollection()
            .AddLogging()
            .AddForgeJobs(forge => forge.UsePostgres(connectionString, o => o.Schema = schema))
            .BuildServiceProvider();
        _client = _services.GetRequiredService<IJobClient>();
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string Name => "forge";

    public string ConnectionString { get; }

    public IReadOnlyList<string> NodeArguments => ["--system", Name, "--connection", ConnectionString, "--schema", _schema];

    public async Task PrepareAsync()
    {
        await using (var drop = _dataSource.CreateCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE"))
        {
            await drop.ExecuteNonQueryAsync();
        }

        // Creates the schema: the client's first call migrates it.
        await _client.ListQueuesAsync();
    }

    public Task EnqueueManyAsync(int count, long stamp) => _client.EnqueueManyAsync(Enumerable.Repeat(new LoadJob(stamp), count), Options);

    public Task EnqueueOneAsync(long stamp) => _client.EnqueueAsync(new LoadJob(stamp), Options);

    public async Task<long> CountUnfinishedAsync()
    {
        // Two counts that each read a partial index, so polling stays cheap however many jobs have finished.
        await using var count = _dataSource.CreateCommand($"""
            SELECT (SELECT count(*) FROM {_schema}.jobs WHERE state = 'running')
                 + (SELECT count(*) FROM {_schema}.jobs WHERE state IN ('available', 'scheduled', 'retrying'))
            """);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    /// <summary>Stores <paramref name="count"/> jobs that succeeded an hour ago, with their attempt history, the way
    /// finished jobs accumulate before the pruner removes them.</summary>
    public async Task PreloadFinishedAsync(int count)
    {
        await using var insert = _dataSource.CreateCommand($$"""
            WITH done AS (
                INSERT INTO {{_schema}}.jobs (type, queue, state, priority, attempt, max_retries, timeout_ms, payload, run_at,
                                            created_at, attempted_at, finished_at)
                SELECT 'load', '{{Queue}}', 'succeeded', 5, 1, 3, 300000, '{"t":0}'::jsonb, now() - interval '1 hour',
                       now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour'
                FROM generate_series(1, $1)
                RETURNING id, attempted_at, finished_at)
            INSERT INTO {{_schema}}.job_attempts (job_id, attempt, node, started_at, finished_at, outcome)
            SELECT id, 1, 'preload', attempted_at, finished_at, 'succeeded' FROM done
            """);
        insert.Parameters.AddWithValue(count);
        insert.CommandTimeout = 0;
        await insert.ExecuteNonQueryAsync();
        await using var analyze = _dataSource.CreateCommand($"VACUUM ANALYZE {_schema}.jobs");
        analyze.CommandTimeout = 0;
        await analyze.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _dataSource.DisposeAsync();
    }
}
