using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Npgsql;

namespace Forge.Jobs.LoadTest;

/// <summary>Hangfire.PostgreSql storage in a schema of its own, set up alike in the coordinator (which enqueues) and
/// in the nodes (which process); the settings, and why, are listed at the top of HangfireNode.cs.</summary>
internal static class HangfireStorage
{
    /// <param name="connections">How many pooled connections the process may need at once; the pool grows to it
    /// when Npgsql's default maximum (100) is smaller.</param>
    public static PostgreSqlStorage Create(string connectionString, string schema, int connections = 0)
    {
        // Hangfire's recommended serializer settings for new installations; job payloads must be written and read alike.
        GlobalConfiguration.Configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings();

        var options = new PostgreSqlStorageOptions
        {
            SchemaName = schema,
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
            EnableLongPolling = false,
        };
        var pooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = true };
        pooled.MaxPoolSize = Math.Max(pooled.MaxPoolSize, connections);
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(pooled.ConnectionString, options), options);
    }
}
