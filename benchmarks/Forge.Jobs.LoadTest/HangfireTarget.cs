using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using Npgsql;

namespace Forge.Jobs.LoadTest;

/// <summary>Hangfire with Hangfire.PostgreSql on the same server, in schema <c>hangfire_load</c>. The coordinator
/// only enqueues, through a <see cref="BackgroundJobClient"/> on the storage; no server runs in it.</summary>
internal sealed class HangfireTarget(string connectionString) : ILoadTarget
{
    private const string Schema = "hangfire_load";

    // Hangfire has no bulk enqueue: EnqueueManyAsync creates jobs one by one (each its own transaction), this many at once.
    private const int Parallelism = 8;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);
    private BackgroundJobClient? _client;

    public string Name => "hangfire";

    public IReadOnlyList<string> NodeArguments => ["--system", Name, "--connection", connectionString, "--schema", Schema];

    private BackgroundJobClient Client => _client ?? throw new InvalidOperationException("PrepareAsync comes first.");

    public async Task PrepareAsync()
    {
        // One job through the client first, on a schema then dropped, so that enqueue mode does not time the
        // client's first-call compilation.
        await DropSchemaAsync();
        new BackgroundJobClient(HangfireStorage.Create(connectionString, Schema)).Create(LoadJob(0), new EnqueuedState());
        await DropSchemaAsync();
        _client = new BackgroundJobClient(HangfireStorage.Create(connectionString, Schema, Parallelism + 4));
    }

    public Task EnqueueManyAsync(int count, long stamp)
    {
        var job = LoadJob(stamp);
        return Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism }, (_, _) =>
        {
            Client.Create(job, new EnqueuedState());
            return ValueTask.CompletedTask;
        });
    }

    // The client is synchronous; the pool thread keeps a paced caller (latency mode) from waiting on it.
    public Task EnqueueOneAsync(long stamp) => Task.Run(() => Client.Create(LoadJob(stamp), new EnqueuedState()));

    public async Task<long> CountUnfinishedAsync()
    {
        await using var count = _dataSource.CreateCommand($"SELECT count(*) FROM {Schema}.job WHERE statename IS DISTINCT FROM 'Succeeded'");
        return (long)(await count.ExecuteScalarAsync())!;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static Job LoadJob(long stamp) => Job.FromExpression(() => HangfireLoadJob.Run(stamp));

    private async Task DropSchemaAsync()
    {
        await using var drop = _dataSource.CreateCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE");
        await drop.ExecuteNonQueryAsync();
    }
}
