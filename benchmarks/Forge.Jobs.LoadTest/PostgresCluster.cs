using Forge.Jobs.Tests.Support;
using Npgsql;

namespace Forge.Jobs.LoadTest;

/// <summary>The PostgreSQL server of a run: the one named by <c>--connection</c>, or a throw-away cluster started
/// from the local server binaries with PostgreSQL's default settings (fsync on), removed when the run ends.</summary>
internal sealed class PostgresCluster : IAsyncDisposable
{
    private readonly string? _bin;
    private readonly string? _root;

    private PostgresCluster(string connectionString, string? bin = null, string? root = null)
    {
        ConnectionString = connectionString;
        _bin = bin;
        _root = root;
    }

    public string ConnectionString { get; }

    public string Description => _root is null ? "given by --connection" : "throw-away cluster, PostgreSQL defaults (fsync on)";

    public static async Task<PostgresCluster> StartAsync(string? connectionString)
    {
        if (connectionString is not null)
        {
            return new PostgresCluster(connectionString);
        }

        var bin = PostgresBinaries.Find() ?? throw new UsageException(
            "No PostgreSQL server binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin. Install them (Debian: apt-get install postgresql) or pass --connection.");
        var root = Path.Combine(Path.GetTempPath(), $"forge-load-{Environment.ProcessId}");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        var asPostgres = Environment.UserName == "root";
        if (asPostgres)
        {
            PostgresBinaries.Run("chown", ["postgres:postgres", root], asPostgres: false);
        }

        var port = PostgresBinaries.FreePort();
        PostgresBinaries.Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"], asPostgres);
        // Only where to listen, and room for many worker connections; every setting that affects speed keeps its default.
        var settings = $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=300";
        PostgresBinaries.Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(root, "postgres.log"), "-o", settings, "-w", "-t", "60", "start"], asPostgres);
        var cluster = new PostgresCluster($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres", bin, root);
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using var create = dataSource.CreateCommand("CREATE DATABASE forge_load");
        await create.ExecuteNonQueryAsync();
        return new PostgresCluster($"Host=127.0.0.1;Port={port};Username=postgres;Database=forge_load", bin, root);
    }

    public ValueTask DisposeAsync()
    {
        if (_root is not null)
        {
            PostgresBinaries.Run(Path.Combine(_bin!, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "fast", "-w", "stop"], Environment.UserName == "root");
            Directory.Delete(_root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
