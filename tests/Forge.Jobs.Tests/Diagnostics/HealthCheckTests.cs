using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Forge.Jobs.Tests.Diagnostics;

public sealed class HealthCheckTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task RunningNodeOnPostgres_StoreEngineAndLeaderAreHealthy_ThenDrainingDegradesTheEngine()
    {
        using var host = Host(database.ConnectionString, "health_running");
        await host.StartAsync();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var running = await health.CheckHealthAsync();
        await host.Services.GetRequiredService<IJobNode>().DrainAsync();
        var draining = await health.CheckHealthAsync();
        await host.StopAsync();

        Assert.Equal(HealthStatus.Healthy, running.Status);
        Assert.Equal(["forge_jobs_engine", "forge_jobs_leader", "forge_jobs_store"], running.Entries.Keys.Order());
        Assert.Equal(HealthStatus.Degraded, draining.Entries["forge_jobs_engine"].Status);
    }

    [Fact]
    public async Task NodeNotStartedAndDatabaseUnreachable_StoreAndEngineAreUnhealthy_WithTheReason()
    {
        // A port nothing listens on: the connection is refused at once.
        using var host = Host($"Host=127.0.0.1;Port={PostgresBinaries.FreePort()};Username=nobody;Timeout=2", "health_down");
        var health = host.Services.GetRequiredService<HealthCheckService>();

        var report = await health.CheckHealthAsync(check => check.Name != "forge_jobs_leader");

        Assert.Equal(HealthStatus.Unhealthy, report.Entries["forge_jobs_store"].Status);
        Assert.NotNull(report.Entries["forge_jobs_store"].Exception);
        Assert.Equal(HealthStatus.Unhealthy, report.Entries["forge_jobs_engine"].Status);
        Assert.Contains("is not running", report.Entries["forge_jobs_engine"].Description, StringComparison.Ordinal);
    }

    private static IHost Host(string connectionString, string schema)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddForgeJobs(forge => forge.UsePostgres(connectionString, o => o.Schema = schema));
        builder.Services.AddHealthChecks().AddForgeJobs("ready");
        return builder.Build();
    }
}
