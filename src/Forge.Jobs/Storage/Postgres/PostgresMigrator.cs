using System.Text;
using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>Creates and upgrades the schema. Every node may run it at start-up at the same time: a
/// transaction-scoped advisory lock (which also works behind a transaction-mode pooler) lets one apply the
/// missing versions while the others wait and then find nothing to do. A node waits for the lock as long as it is
/// held, with no command timeout (only its start-up's cancellation ends the wait): behind a long migration, or many
/// nodes taking the lock in turn, it would otherwise fail to start.</summary>
internal static class PostgresMigrator
{
    public static async Task MigrateAsync(NpgsqlDataSource dataSource, string quotedSchema, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await ExecuteAsync(connection, Lock(quotedSchema), cancellationToken, timeoutSeconds: 0).ConfigureAwait(false);
                await ExecuteAsync(connection, MigrationTable(quotedSchema), cancellationToken).ConfigureAwait(false);
                var applied = await AppliedAsync(connection, quotedSchema, cancellationToken).ConfigureAwait(false);
                foreach (var (version, name) in PostgresSchema.Migrations())
                {
                    if (!applied.Contains(version))
                    {
                        await ExecuteAsync(connection, PostgresSchema.MigrationSql(name, quotedSchema) + Record(quotedSchema, version, name), cancellationToken).ConfigureAwait(false);
                    }
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Fails unless every migration this library knows is recorded, for a store that does not migrate itself.</summary>
    public static async Task VerifyAsync(NpgsqlDataSource dataSource, string quotedSchema, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            HashSet<int> applied;
            try
            {
                applied = await AppliedAsync(connection, quotedSchema, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                applied = [];
            }

            var missing = PostgresSchema.Migrations().Where(m => !applied.Contains(m.Version)).Select(m => m.Name).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidOperationException(
                    $"The Forge.Jobs schema {quotedSchema} lacks migrations {string.Join(", ", missing)}. Apply ForgeJobsPostgres.GetMigrationScript(), or set PostgresStoreOptions.AutoMigrate = true.");
            }
        }
    }

    public static string Script(string quotedSchema)
    {
        var script = new StringBuilder();
        script.AppendLine("BEGIN;").AppendLine(Preamble(quotedSchema));
        foreach (var (version, name) in PostgresSchema.Migrations())
        {
            script.AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"-- migration {name}")
                .AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"DO $migration$ BEGIN IF NOT EXISTS (SELECT 1 FROM {quotedSchema}.schema_migrations WHERE version = {version}) THEN")
                .AppendLine(System.Globalization.CultureInfo.InvariantCulture, $"EXECUTE {Literal(PostgresSchema.MigrationSql(name, quotedSchema) + Record(quotedSchema, version, name))};")
                .AppendLine("END IF; END $migration$;");
        }

        return script.AppendLine("COMMIT;").ToString();
    }

    private static string Preamble(string quotedSchema) => Lock(quotedSchema) + "\n" + MigrationTable(quotedSchema);

    private static string Lock(string quotedSchema) => $"SELECT pg_advisory_xact_lock(hashtext('forge.jobs migrate ' || {Literal(quotedSchema)}));";

    private static string MigrationTable(string quotedSchema) => $"""
        CREATE SCHEMA IF NOT EXISTS {quotedSchema};
        CREATE TABLE IF NOT EXISTS {quotedSchema}.schema_migrations (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        );
        """;

    private static string Record(string quotedSchema, int version, string name) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\nINSERT INTO {quotedSchema}.schema_migrations (version, name) VALUES ({version}, {Literal(name)});\n");

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static async Task<HashSet<int>> AppliedAsync(NpgsqlConnection connection, string quotedSchema, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand($"SELECT version FROM {quotedSchema}.schema_migrations", connection);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var versions = new HashSet<int>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    versions.Add(reader.GetInt32(0));
                }

                return versions;
            }
        }
    }

    // timeoutSeconds: null keeps the connection's command timeout; 0 waits without one.
    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, int? timeoutSeconds = null)
    {
        var command = new NpgsqlCommand(sql, connection);
        if (timeoutSeconds is { } timeout)
        {
            command.CommandTimeout = timeout;
        }

        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
