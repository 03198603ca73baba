using System.Text.Json;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Npgsql;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>Shared set-up of the PostgreSQL failure and plan tests: stores on fresh schemas of one database, and plan inspection.</summary>
public abstract class PostgresStoreFixture(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    internal const string NodeA = "node-a";

    private static int _schemas;
    private readonly List<PostgresJobStore> _stores = [];
    private NpgsqlDataSource? _dataSource;

    internal NpgsqlDataSource DataSource => _dataSource!;

    public Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await _dataSource!.DisposeAsync();
    }

    internal static string NewSchema(string prefix) => $"{prefix}_{Interlocked.Increment(ref _schemas)}";

    /// <summary>A store on its own data source, as a node would have.</summary>
    internal async Task<PostgresJobStore> StoreAsync(string schema, TimeSpan? commandTimeout = null)
    {
        var store = await database.OpenStoreAsync(schema, commandTimeout);
        _stores.Add(store);
        return store;
    }

    internal static async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(PostgresJobStore store, int count, TimeSpan lease, string queue = "default") =>
        await store.ClaimAsync(new ClaimRequest(NodeA, lease, [new QueueLimit(queue, count)]), default);

    internal static Completion Succeeded(ClaimedJob job, string? result = null) =>
        new(job.Id, job.LeaseOwner, job.Attempt, CompletionOutcome.Succeeded, Result: result);

    /// <summary>Runs EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of one of the store's statements in a transaction that is rolled
    /// back, with the parameters bound the way the store binds them, and returns the plan's root node.</summary>
    internal async Task<JsonElement> ExplainAsync(string schema, string file, params object[] parameters)
    {
        var sql = PostgresSchema.Sql(file, PostgresSchema.Quote(schema)).Replace("{lock}", "FOR UPDATE OF j", StringComparison.Ordinal);
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, connection, transaction);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(parameter as NpgsqlParameter ?? new NpgsqlParameter { Value = parameter });
        }

        // A statement that grows a parameter (a fixed version, say) still explains: the extra ones are null.
        var highest = System.Text.RegularExpressions.Regex.Matches(sql, @"\$(\d+)").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
        while (command.Parameters.Count < highest)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        }

        var json = (string)(await command.ExecuteScalarAsync())!;
        await transaction.RollbackAsync();
        using var document = JsonDocument.Parse(json);
        return document.RootElement[0].GetProperty("Plan").Clone();
    }

    /// <summary>Every node of a plan, depth first.</summary>
    internal static IEnumerable<JsonElement> Nodes(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("Plans", out var children))
        {
            foreach (var child in children.EnumerateArray())
            {
                foreach (var descendant in Nodes(child))
                {
                    yield return descendant;
                }
            }
        }
    }

    internal static double Number(JsonElement node, string property) =>
        node.TryGetProperty(property, out var value) ? value.GetDouble() : 0;
}
