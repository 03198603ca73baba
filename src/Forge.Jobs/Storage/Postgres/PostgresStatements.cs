namespace Forge.Jobs.Storage.Postgres;

/// <summary>The store's statements for one schema, formatted once.</summary>
internal sealed class PostgresStatements(string quotedSchema)
{
    public string Insert { get; } = PostgresSchema.Sql("Sql/insert", quotedSchema);
    public string NotifyAvailable { get; } = PostgresSchema.Sql("Sql/notify_available", quotedSchema);
    public string ExistingKeys { get; } = PostgresSchema.Sql("Sql/existing_keys", quotedSchema);
    public string Claim { get; } = PostgresSchema.Sql("Sql/claim", quotedSchema);
    public string Complete { get; } = PostgresSchema.Sql("Sql/complete", quotedSchema);
    public string ExtendLeases { get; } = PostgresSchema.Sql("Sql/extend_leases", quotedSchema);
    public string ListExpired { get; } = PostgresSchema.Sql("Sql/list_expired", quotedSchema);
    public string Cancel { get; } = PostgresSchema.Sql("Sql/cancel", quotedSchema);
    public string Retry { get; } = PostgresSchema.Sql("Sql/retry", quotedSchema);
    public string GetJob { get; } = PostgresSchema.Sql("Sql/get_job", quotedSchema);
    public string ListJobs { get; } = PostgresSchema.Sql("Sql/list_jobs", quotedSchema);
    public string ListAttempts { get; } = PostgresSchema.Sql("Sql/list_attempts", quotedSchema);
}
