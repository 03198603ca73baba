using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Forge.Jobs.Tests.Storage;

/// <summary>The conformance suite, unchanged, against PostgreSQL: one database for the class, a fresh schema per test.</summary>
public sealed class PostgresJobStoreTests(PostgresDatabase database) : JobStoreConformanceTests, IClassFixture<PostgresDatabase>
{
    private static int _schemas;
    private PostgresJobStore? _store;

    private protected override async Task<IJobStore> CreateStoreAsync()
    {
        var options = new PostgresStoreOptions { Schema = $"conformance_{Interlocked.Increment(ref _schemas)}" };
        var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        _store = new PostgresJobStore(dataSource, ownsDataSource: true, options, new PostgresNotifier(dataSource, ownsDataSource: false, NullLogger.Instance));
        await _store.InitializeAsync(default);
        return _store;
    }

    public override async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }
}
