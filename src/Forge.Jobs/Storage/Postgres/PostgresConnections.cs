using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

internal static class PostgresConnections
{
    /// <summary>Statements the store runs per claim and per completion would otherwise be parsed and planned on every
    /// call, which costs more than executing them for a small batch. Npgsql keeps prepared statements across pooled
    /// opens of a physical connection.</summary>
    private const int MaxAutoPrepare = 64;

    /// <summary>The connection string with automatic preparation on, unless it already says how many to prepare.</summary>
    public static string WithPreparedStatements(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!builder.ContainsKey(nameof(NpgsqlConnectionStringBuilder.MaxAutoPrepare)) && !builder.ContainsKey("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = MaxAutoPrepare;
        }

        return builder.ConnectionString;
    }
}
