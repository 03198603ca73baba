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

        // Versions need not be contiguous (features number their migrations apart), so count the migrations themselves.
        var migrations = PostgresSchema.Migrations().Count();
        Assert.Equal(migrations, await dataSource.ScalarAsync<long>("SELECT count(*) FROM many_nodes.schema_migrations"));
        await Store(dataSource, "many_nodes").InitializeAsync(default);
        Assert.Equal(migrations, await dataSource.ScalarAsync<long>("SELECT count(*) FROM many_nodes.schema_migrations"));
    }

    [Fact]
    public async Task Migrate_AnotherNodeHoldsTheMigrationLockPastTheCommandTimeout_WaitsForItThenMigrates()
    {
        // A node whose commands time out after one second.
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { CommandTimeout = 1 }.ConnectionString);
        await using var other = NpgsqlDataSource.Create(database.ConnectionString);
        await using var migrating = await other.OpenConnectionAsync();
        await using var transaction = await migrating.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('forge.jobs migrate ' || '\"held_lock\"'))", migrating, transaction))
        {
            await take.ExecuteNonQueryAsync();
        }

        var starting = Store(dataSource, "held_lock").InitializeAsync(default);
        await WaitUntilAsync(async () => await other.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") == 1);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the other node migrates for three times the command timeout

        Assert.False(starting.IsCompleted);
        await transaction.CommitAsync();
        await starting;
        Assert.Equal(PostgresSchema.Migrations().Count(), await other.ScalarAsync<long>("SELECT count(*) FROM held_lock.schema_migrations"));
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

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
        }
    }

    private static PostgresJobStore Store(NpgsqlDataSource dataSource, string schema, bool autoMigrate = true) =>
        new(dataSource, ownsDataSource: false, new PostgresStoreOptions { Schema = schema, AutoMigrate = autoMigrate }, new PostgresNotifier(dataSource, ownsDataSource: false, NullLogger.Instance));
}
