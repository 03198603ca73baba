// Hangfire settings of the comparison (Hangfire.Core 1.8.25, Hangfire.PostgreSql 1.21.1, Npgsql 10.0.3); whatever
// is not listed keeps its default.
//   Serializer, both processes (Hangfire's recommended setup for new installations): SetDataCompatibilityLevel
//     (Version_180), UseSimpleAssemblyNameTypeSerializer, UseRecommendedSerializerSettings.
//   PostgreSqlStorageOptions, both processes: SchemaName hangfire_load, PrepareSchemaIfNecessary true,
//     QueuePollInterval 200 ms (default 15 s), EnableLongPolling false (the default). Kept at their defaults:
//     InvisibilityTimeout 30 min, DistributedLockTimeout 10 min, UseNativeDatabaseTransactions true,
//     UseSlidingInvisibilityTimeout false.
//   Every idle worker polls on its own, so W workers make W / QueuePollInterval empty fetches a second: 50 ms, the
//     lowest the library accepts, is 2,000 a second with 100 workers, and measured slower than 200 ms here. Long
//     polling measured slower still, in drain and in latency: Hangfire.PostgreSql opens a LISTEN connection for every
//     dequeue of every worker, and each NOTIFY wakes all of them.
//   Connections: NpgsqlConnectionFactory on the connection string, pooled; Maximum Pool Size at least
//     WorkerCount + 20.
//   BackgroundJobServerOptions: WorkerCount = --concurrency; the default queue.
using Hangfire;
using Hangfire.Logging;
using Npgsql;

namespace Forge.Jobs.LoadTest;

/// <summary>A Hangfire server processing the load schema's default queue with <c>--concurrency</c> workers.</summary>
internal sealed class HangfireNode(string connectionString, string schema, int concurrency) : ILoadNode
{
    private const int WarmUpJobs = 50;
    private BackgroundJobServer? _server;

    public async Task WarmUpAsync()
    {
        LogProvider.SetCurrentLogProvider(new HangfireErrorLog());
        var warmUpSchema = $"{schema}_warmup_{Environment.ProcessId}";
        LoadRecorder.Prepare(0);
        var storage = CreateStorage(warmUpSchema);
        using (var server = Start(storage))
        {
            await Task.Run(() =>
            {
                var client = new BackgroundJobClient(storage);
                for (var i = 0; i < WarmUpJobs; i++)
                {
                    client.Enqueue(() => HangfireLoadJob.Run(0));
                }
            });

            while (LoadRecorder.Started < WarmUpJobs)
            {
                await Task.Delay(10);
            }

            await StopAsync(server);
        }

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var drop = dataSource.CreateCommand($"DROP SCHEMA {warmUpSchema} CASCADE");
        await drop.ExecuteNonQueryAsync();
    }

    public Task StartAsync()
    {
        _server = Start(CreateStorage(schema));
        return Task.CompletedTask;
    }

    public Task StopAsync() => _server is null ? Task.CompletedTask : StopAsync(_server);

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task StopAsync(BackgroundJobServer server)
    {
        server.SendStop();
        await server.WaitForShutdownAsync(CancellationToken.None);
    }

    private JobStorage CreateStorage(string storageSchema) => HangfireStorage.Create(connectionString, storageSchema, concurrency + 20);

    private BackgroundJobServer Start(JobStorage storage) =>
        new(new BackgroundJobServerOptions { WorkerCount = concurrency }, storage);
}
