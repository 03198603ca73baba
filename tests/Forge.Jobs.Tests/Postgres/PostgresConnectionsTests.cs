using Forge.Jobs.Storage.Postgres;
using Npgsql;

namespace Forge.Jobs.Tests.Postgres;

public sealed class PostgresConnectionsTests
{
    [Fact]
    public void ForStore_PreparesStatementsAndKeepsThemAcrossPooledOpens()
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresConnections.ForStore("Host=127.0.0.1;Username=app"));

        Assert.True(settings.MaxAutoPrepare > 0);
        Assert.True(settings.NoResetOnClose);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Max Auto Prepare=0", 0)]
    [InlineData("Host=127.0.0.1;MaxAutoPrepare=5", 5)]
    public void ForStore_KeepsTheCallersAutoPrepareSetting(string connectionString, int expected)
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgresConnections.ForStore(connectionString));

        Assert.Equal(expected, settings.MaxAutoPrepare);
    }
}
