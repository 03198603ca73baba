using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Storage;

/// <summary>The conformance suite, unchanged, against PostgreSQL: one database for the class, a fresh schema per test.</summary>
public sealed class PostgresJobStoreTests(PostgresDatabase database) : JobStoreConformanceTests, IClassFixture<PostgresDatabase>
{
    private static int _schemas;
    private PostgresJobStore? _store;

    private protected override async Task<IJobStore> CreateStoreAsync() =>
        _store = await database.OpenStoreAsync($"conformance_{Interlocked.Increment(ref _schemas)}");

    public override async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }
}
