using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Forge.Jobs.LoadTest;

/// <summary>A Forge.Jobs node serving the load queue with the library's default settings and the given concurrency.</summary>
internal sealed class ForgeNode(string connectionString, string schema, int concurrency) : ILoadNode
{
    private const int WarmUpJobs = 3000;
    private IHost? _host;

    public async Task WarmUpAsync()
    {
        var warmUpSchema = $"{schema}_warmup_{Environment.ProcessId}";
        LoadRecorder.Prepare(0);
        using (var host = Build(warmUpSchema))
        {
            await host.StartAsync();
            var client = host.Services.GetRequiredService<IJobClient>();
            for (var i = 0; i < WarmUpJobs; i += 500)
            {
                await client.EnqueueManyAsync(Enumerable.Repeat(new LoadJob(0), 500), new JobOptions { Queue = ForgeTarget.Queue });
            }

            while (LoadRecorder.Started < WarmUpJobs)
            {
                await Task.Delay(10);
            }

            await host.StopAsync();
        }

        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var drop = dataSource.CreateCommand($"DROP SCHEMA {warmUpSchema} CASCADE");
        await drop.ExecuteNonQueryAsync();
    }

    public Task StartAsync()
    {
        _host = Build(schema);
        return _host.StartAsync();
    }

    public Task StopAsync() => _host?.StopAsync() ?? Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _host?.Dispose();
        return ValueTask.CompletedTask;
    }

    private IHost Build(string hostSchema)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddForgeJobs(forge => forge
            .UsePostgres(connectionString, o => o.Schema = hostSchema)
            .AddQueue(ForgeTarget.Queue, queue => queue.Concurrency = concurrency)
            .AddHandler<LoadJobHandler, LoadJob>(type => type.Queue = ForgeTarget.Queue));
        return builder.Build();
    }
}
