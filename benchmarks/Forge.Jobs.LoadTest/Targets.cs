namespace Forge.Jobs.LoadTest;

/// <summary>The systems the harness can drive, by name.</summary>
internal static class Targets
{
    public static ILoadTarget Create(string system, string connectionString) => system switch
    {
        "forge" => new ForgeTarget(connectionString, "forge_load"),
        "hangfire" => new HangfireTarget(connectionString),
        _ => throw new UsageException($"Unknown system '{system}'."),
    };

    public static ILoadNode CreateNode(string system, string connectionString, string schema, int concurrency) => system switch
    {
        "forge" => new ForgeNode(connectionString, schema, concurrency),
        "hangfire" => new HangfireNode(connectionString, schema, concurrency),
        _ => throw new UsageException($"Unknown system '{system}'."),
    };
}
