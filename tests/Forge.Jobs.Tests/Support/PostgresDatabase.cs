using Forge.Jobs.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Forge.Jobs.Tests.Support;

/// <summary>A fresh database for one test class.</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private string? _connectionString;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The database is created in InitializeAsync.");

    public async Task InitializeAsync() => _connectionString = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A store in <paramref name="schema"/> on a data source of its own, as a node would have, with its
    /// schema created. The caller disposes it.</summary>
    internal async Task<PostgresJobStore> OpenStoreAsync(string schema, TimeSpan? commandTimeout = null)
    {
        var options = new PostgresStoreOptions { Schema = schema, CommandTimeout = commandTimeout ?? TimeSpan.FromSeconds(30) };
        var dataSource = NpgsqlDataSource.Create(ConnectionString);
        var store = new PostgresJobStore(dataSource, ownsDataSource: true, options, new PostgresNotifier(dataSource, ownsDataSource: false, NullLogger.Instance));
        await store.InitializeAsync(default);
        return store;
    }
}
