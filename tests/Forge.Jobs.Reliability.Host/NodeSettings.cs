using System.Text.Json;

namespace Forge.Jobs.Reliability;

/// <summary>How one node process of a scenario is set up. The test serializes it as the process's only argument.</summary>
public sealed record NodeSettings
{
    public required string NodeId { get; init; }

    /// <summary>The library's connections: straight to PostgreSQL, or through the fault proxy or PgBouncer.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>The ledger's connection: always straight to PostgreSQL, so that a fault on the library's path does not
    /// hide an execution.</summary>
    public required string LedgerConnectionString { get; init; }

    public required string Schema { get; init; }

    public string? ListenConnectionString { get; init; }

    public bool PollOnly { get; init; }

    /// <summary>Queues by name, with their concurrency.</summary>
    public IReadOnlyDictionary<string, int> Queues { get; init; } = new Dictionary<string, int> { ["default"] = 8 };

    public int LeaseMilliseconds { get; init; } = 6_000;

    public int RenewMilliseconds { get; init; } = 2_000;

    public int RescueMilliseconds { get; init; } = 1_000;

    public int PollMilliseconds { get; init; } = 1_000;

    public int ShutdownMilliseconds { get; init; } = 15_000;

    public int CommandTimeoutMilliseconds { get; init; } = 30_000;

    /// <summary><c>ForgeJobsOptions.MaxClaimBytes</c>, when set.</summary>
    public int? MaxClaimBytes { get; init; }

    /// <summary>Caps the node's garbage-collected heap (<c>DOTNET_GCHeapHardLimit</c>, set in its environment at launch), as
    /// a container's memory limit would.</summary>
    public long? GcHeapHardLimitBytes { get; init; }

    /// <summary>How long succeeded jobs are kept before the leader's pruner deletes them; the library's default when null.</summary>
    public int? SucceededRetentionMilliseconds { get; init; }

    /// <summary>How far this node's clock is from the real one.</summary>
    public double ClockOffsetSeconds { get; init; }

    /// <summary>A cron expression (with seconds) for a schedule named "tick" that enqueues a short work job.</summary>
    public string? Cron { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this);

    public static NodeSettings FromJson(string json) =>
        JsonSerializer.Deserialize<NodeSettings>(json) ?? throw new ArgumentException("The node settings are empty.", nameof(json));
}
