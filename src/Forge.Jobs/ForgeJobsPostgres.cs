using Forge.Jobs.Storage.Postgres;

namespace Forge.Jobs;

/// <summary>PostgreSQL helpers for operators.</summary>
public static class ForgeJobsPostgres
{
    /// <summary>The SQL that creates or upgrades the Forge.Jobs schema to the version this library needs, for a
    /// DBA who applies migrations by hand (with <see cref="PostgresStoreOptions.AutoMigrate"/> off). It is
    /// idempotent: each migration runs only if its version is not yet recorded.</summary>
    /// <param name="schema">The schema name, as in <see cref="PostgresStoreOptions.Schema"/>.</param>
    public static string GetMigrationScript(string schema = "forge") => PostgresMigrator.Script(PostgresSchema.Quote(schema));
}
