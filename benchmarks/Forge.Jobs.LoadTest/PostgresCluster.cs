using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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

        var bin = FindBinaries() ?? throw new UsageException(
            "No PostgreSQL server binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin. Install them (Debian: apt-get install postgresql) or pass --connection.");
        var root = Path.Combine(Path.GetTempPath(), $"forge-load-{Environment.ProcessId}");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        var asPostgres = Environment.UserName == "root";
        if (asPostgres)
        {
            Run("chown", ["postgres:postgres", root], asPostgres: false);
        }

        var port = FreePort();
        Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"], asPostgres);
        // Only where to listen, and room for many worker connections; every setting that affects speed keeps its default.
        var settings = $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=300";
        Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(root, "postgres.log"), "-o", settings, "-w", "-t", "60", "start"], asPostgres);
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
            Run(Path.Combine(_bin!, "pg_ctl"), ["-D", Path.Combine(_root, "data"), "-m", "fast", "-w", "stop"], Environment.UserName == "root");
            Directory.Delete(_root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    private static string? FindBinaries()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")))
            {
                return directory;
            }
        }

        return Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
    }

    /// <summary>Runs a server binary, as the postgres user when run as root (PostgreSQL refuses root).</summary>
    private static void Run(string file, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres)
        {
            foreach (var argument in (string[])["-u", "postgres", "--", file])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {error}{output.Result}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
