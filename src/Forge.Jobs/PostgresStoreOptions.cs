namespace Forge.Jobs;

/// <summary>Options of the PostgreSQL store, set in <see cref="ForgeJobsBuilder.UsePostgres(string, Action{PostgresStoreOptions}?)"/>.</summary>
public sealed class PostgresStoreOptions
{
    /// <summary>The schema that holds Forge.Jobs' tables: lower-case letters, digits and <c>_</c>, starting with a
    /// letter or <c>_</c>, at most 58 characters. Nodes of one cluster use the same schema.</summary>
    /// <value>Defaults to <c>forge</c>.</value>
    public string Schema { get; set; } = "forge";

    /// <summary>Whether the store creates and upgrades its schema at start-up, under an advisory lock so that many
    /// nodes may start at once. Turn it off when a DBA applies <see cref="ForgeJobsPostgres.GetMigrationScript"/>
    /// instead; the store then checks at start-up that the schema is current.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool AutoMigrate { get; set; } = true;

    /// <summary>How long one database command may run before it is cancelled.</summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Turns off LISTEN/NOTIFY: nodes find new jobs by polling only. Needed when every connection goes
    /// through a transaction-mode pooler and no <see cref="ListenConnectionString"/> reaches PostgreSQL directly. The store
    /// then does not prepare statements automatically, unless its connection string sets <c>Max Auto Prepare</c>.</summary>
    /// <value>Defaults to <see langword="false"/>: notifications wake idle nodes within milliseconds.</value>
    public bool PollOnly { get; set; }

    /// <summary>A connection string for the one long-lived LISTEN connection of each node, for deployments whose
    /// main connection string goes through a transaction-mode pooler (LISTEN needs a session). When it is set, the store
    /// does not prepare statements automatically on its main connections, unless their connection string sets
    /// <c>Max Auto Prepare</c>: through the pooler, a prepared statement may be missing from, or another one under its
    /// name, on the server connection that a later call reaches.</summary>
    /// <value>Defaults to none: the store's own data source is used.</value>
    public string? ListenConnectionString { get; set; }
}
