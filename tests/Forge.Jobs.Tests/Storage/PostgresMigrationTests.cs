using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Forge.Jobs.Tests.Storage;

public sealed class PostgresMigrationTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Migrate_ManyNodesStartingAtOnce_AppliesEachVersionOnce()
    {
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var stores = Enumerable.Range(0, 8).Select(_ => Store(dataSource, "many_nodes")).ToList();

        await Task.WhenAll(stores.Select(s => s.InitializeAsync(default)));

        Assert.Equal(PostgresSchema.Migrations().Count(), await dataSource.ScalarAsync<long>("SELECT count(*) FROM many_nodes.schema_migrations"));
        await Store(dataSource, "many_nodes").InitializeAsync(default);
        Assert.Equal(PostgresSchema.Migrations().Count(), await dataSource.ScalarAsync<long>("SELECT count(*) FROM many_nodes.schema_migrations"));
    }

    [Fact]
    public async Task MigrationScript_AppliedTwiceByHand_LeavesASchemaTheStoreAcceptsWithoutAutoMigrate()
    {
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var script = ForgeJobsPostgres.GetMigrationScript("by_hand");

        await dataSource.ExecuteAsync(script);
        await dataSource.ExecuteAsync(script);
        var store = Store(dataSource, "by_hand", autoMigrate: false);
        await store.InitializeAsync(default);

        Assert.Single(await store.InsertManyAsync([TestJobs.New()], default));
    }

    [Fact]
    public async Task AutoMigrateOff_SchemaMissing_FailsSayingHowToCreateIt()
    {
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Store(dataSource, "never_created", autoMigrate: false).InitializeAsync(default));

        Assert.Contains("ForgeJobsPostgres.GetMigrationScript()", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MigrationScript_InvalidSchemaName_IsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => ForgeJobsPostgres.GetMigrationScript("forge; DROP TABLE x"));

        Assert.Contains("is not valid", error.Message, StringComparison.Ordinal);
    }

    private static PostgresJobStore Store(NpgsqlDataSource dataSource, string schema, bool autoMigrate = true) =>
        new(dataSource, ownsDataSource: false, new PostgresStoreOptions { Schema = schema, AutoMigrate = autoMigrate }, new PostgresNotifier(dataSource, ownsDataSource: false, NullLogger.Instance));
}
