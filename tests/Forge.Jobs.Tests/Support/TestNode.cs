using Forge.Jobs.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Forge.Jobs.Tests.Support;

/// <summary>A host running one Forge.Jobs node against a given store and clock.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private TestNode(IHost host) => _host = host;

    public IJobClient Client => _host.Services.GetRequiredService<IJobClient>();

    public IJobNode Node => _host.Services.GetRequiredService<IJobNode>();

    public IServiceProvider Services => _host.Services;

    public static IHost Build(IJobStore store, Action<ForgeJobsBuilder> configure, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        builder.Services.AddSingleton(store);
        services?.Invoke(builder.Services);
        builder.Services.AddForgeJobs(configure);
        return builder.Build();
    }

    public static async Task<TestNode> StartAsync(IJobStore store, Action<ForgeJobsBuilder> configure, TimeProvider? time = null, Action<IServiceCollection>? services = null)
    {
        var host = Build(store, configure, time, services);
        await Wait.For(host.StartAsync(), "the node to start");
        return new TestNode(host);
    }

    /// <summary>A node on the PostgreSQL store, in its own schema of the given database, on the given clock (the system's by default).</summary>
    public static async Task<TestNode> StartPostgresAsync(string connectionString, string schema, Action<ForgeJobsBuilder> configure, Action<IServiceCollection>? services = null, TimeProvider? time = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(time ?? TimeProvider.System);
        services?.Invoke(builder.Services);
        builder.Services.AddForgeJobs(forge =>
        {
            forge.UsePostgres(connectionString, o => o.Schema = schema);
            configure(forge);
        });
        var host = builder.Build();
        await Wait.For(host.StartAsync(), "the node to start");
        return new TestNode(host);
    }

    public async Task StopAsync()
    {
        _stopped = true;
        await Wait.For(_host.StopAsync(), "the node to stop");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            await StopAsync();
        }

        _host.Dispose();
    }
}
