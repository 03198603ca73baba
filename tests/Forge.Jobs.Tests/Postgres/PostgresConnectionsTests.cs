using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Forge.Jobs.Tests.Postgres;

public sealed class PostgresConnectionsTests
{
    [Fact]
    public void ForStore_PreparesStatementsAndKeepsThemAcrossPooledOpens()
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresConnections.ForStore("Host=127.0.0.1;Username=app", throughPooler: false));

        Assert.True(settings.MaxAutoPrepare > 0);
        Assert.True(settings.NoResetOnClose);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Max Auto Prepare=0", 0)]
    [InlineData("Host=127.0.0.1;MaxAutoPrepare=5", 5)]
    public void ForStore_KeepsTheCallersAutoPrepareSetting(string connectionString, int expected)
    {
        var direct = new NpgsqlConnectionStringBuilder(PostgresConnections.ForStore(connectionString, throughPooler: false));
        var pooled = new NpgsqlConnectionStringBuilder(PostgresConnections.ForStore(connectionString, throughPooler: true));

        Assert.Equal(expected, direct.MaxAutoPrepare);
        Assert.Equal(expected, pooled.MaxAutoPrepare);
    }

    [Fact]
    public void ForStore_ThroughATransactionPooler_PreparesNothingButKeepsNoReset()
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresConnections.ForStore("Host=127.0.0.1;Username=app", throughPooler: true));

        Assert.Equal(0, settings.MaxAutoPrepare);
        Assert.True(settings.NoResetOnClose);
    }

    [Theory]
    [InlineData(true, null, false)]
    [InlineData(false, "Host=127.0.0.1;Username=direct", false)]
    [InlineData(false, null, true)]
    public async Task UsePostgres_OptionsOfATransactionPooler_TurnAutomaticPreparationOff(bool pollOnly, string? listen, bool prepares)
    {
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddForgeJobs(f => f.UsePostgres("Host=127.0.0.1;Username=app", o =>
            {
                o.PollOnly = pollOnly;
                o.ListenConnectionString = listen;
            }))
            .BuildServiceProvider();

        var store = (PostgresJobStore)services.GetRequiredService<IJobStore>();

        var settings = new NpgsqlConnectionStringBuilder(store.DataSource.ConnectionString);
        Assert.Equal(prepares, settings.MaxAutoPrepare > 0);
        Assert.True(settings.NoResetOnClose);
    }
}
