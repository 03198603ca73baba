using System.Data.Common;
using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

internal static class PostgresConnections
{
    /// <summary>Statements the store runs per claim and per completion would otherwise be parsed and planned on every
    /// call, which costs more than executing them for a small batch. Npgsql keeps prepared statements across pooled
    /// opens of a physical connection.</summary>
    private const int MaxAutoPrepare = 64;

    /// <summary>The connection string of the store's own data source: automatic preparation on, unless the string says
    /// how many to prepare, and no reset of a connection returned to the pool, which would discard its prepared statements
    /// (PostgreSQL's DISCARD ALL). The store leaves no session state behind: its settings are local to a transaction, and
    /// it listens on a data source of its own.</summary>
    public static string ForStore(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Npgsql's builder knows every keyword; only the string itself tells whether the caller chose a value.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey(nameof(NpgsqlConnectionStringBuilder.MaxAutoPrepare)))
        {
            builder.MaxAutoPrepare = MaxAutoPrepare;
        }

        builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }
}
