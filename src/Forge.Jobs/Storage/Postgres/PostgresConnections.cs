using System.Data.Common;
using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

internal static class PostgresConnections
{
    /// <summary>Statements the store runs per claim and per completion would otherwise be parsed and planned on every
    /// call, which costs more than executing them for a small batch. Npgsql keeps prepared statements across pooled
    /// opens of a physical connection.</summary>
    private const int MaxAutoPrepare = 64;

    /// <summary>Why <paramref name="connectionString"/>, given as <paramref name="option"/>, cannot be used, or
    /// <see langword="null"/>. The message never quotes the string, which may hold a password.</summary>
    public static string? Check(string? connectionString, string option)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return $"{option} is {(connectionString is null ? "null" : "blank")}; give an Npgsql connection string such as \"Host=db;Database=jobs;Username=app;Password=...\".";
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
            return null;
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            var reason = exception is ArgumentException { ParamName: { } parameter }
                ? exception.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal)
                : exception.Message;
            return $"{option} is not a valid Npgsql connection string ({reason}); use keyword=value pairs separated by ';', such as \"Host=db;Database=jobs;Username=app;Password=...\".";
        }
    }

    /// <summary>The connection string of the store's own data source: no reset of a connection returned to the pool, which
    /// would discard its prepared statements (PostgreSQL's DISCARD ALL), and automatic preparation on, unless the string
    /// says how many to prepare or <paramref name="throughPooler"/>. Behind a transaction-mode pooler a later statement may
    /// reach a server connection that never saw the prepared one, or one that prepared another statement under the same
    /// name. The store leaves no session state behind: its settings are local to a transaction, and it listens on a data
    /// source of its own.</summary>
    /// <param name="connectionString">The caller's connection string.</param>
    /// <param name="throughPooler">Whether the options say that connections go through a transaction-mode pooler
    /// (<see cref="PostgresStoreOptions.PollOnly"/>, or a <see cref="PostgresStoreOptions.ListenConnectionString"/> of
    /// its own).</param>
    public static string ForStore(string connectionString, bool throughPooler)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Npgsql's builder knows every keyword; only the string itself tells whether the caller chose a value.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey(nameof(NpgsqlConnectionStringBuilder.MaxAutoPrepare)))
        {
            builder.MaxAutoPrepare = throughPooler ? 0 : MaxAutoPrepare;
        }

        builder.NoResetOnClose = true;
        return builder.ConnectionString;
    }
}
