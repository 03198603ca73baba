using System.Diagnostics;
using Npgsql;

namespace Forge.Jobs.Tests.Support;

/// <summary>The PostgreSQL server of a test run, found once per process: the connection string in
/// <c>FORGE_TEST_PG</c> if set; else a Testcontainers container when a Docker engine answers; else a throw-away
/// cluster started from the local server binaries (run as the <c>postgres</c> user when the tests run as root).
/// Containers and clusters are stopped when the process exits.</summary>
internal sealed class PostgresServer
{
    public const string EnvironmentVariable = "FORGE_TEST_PG";

    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);
    private static int _databases;

    private PostgresServer(string connectionString, string? dataDirectory = null, string? binDirectory = null)
    {
        ConnectionString = connectionString;
        DataDirectory = dataDirectory;
        BinDirectory = binDirectory;
    }

    /// <summary>Connects to the server's maintenance database as a user that may create databases.</summary>
    public string ConnectionString { get; }

    /// <summary>The data directory of a cluster these tests started, else null.</summary>
    public string? DataDirectory { get; }

    public string? BinDirectory { get; }

    /// <summary>The server log of a cluster these tests started, else null.</summary>
    public string? LogFile => DataDirectory is null ? null : Path.Combine(Path.GetDirectoryName(DataDirectory)!, "postgres.log");

    /// <summary>Restarts a cluster these tests started with <c>pg_ctl restart -m immediate</c> (a crash: no checkpoint,
    /// every connection cut), logging to the same file, and returns once it accepts connections again.</summary>
    public void RestartImmediately()
    {
        if (DataDirectory is null || BinDirectory is null)
        {
            throw new InvalidOperationException($"Only a cluster these tests started can be restarted; {EnvironmentVariable} names another server.");
        }

        PostgresBinaries.Run(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-l", LogFile!, "-m", "immediate", "-w", "-t", "60", "restart"], Environment.UserName == "root");
    }

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"forge_test_{Environment.ProcessId}_{Interlocked.Increment(ref _databases)}";
        await using (var dataSource = NpgsqlDataSource.Create(ConnectionString))
        {
            await using var drop = dataSource.CreateCommand($"DROP DATABASE IF EXISTS {name}");
            await drop.ExecuteNonQueryAsync();
            await using var create = dataSource.CreateCommand($"CREATE DATABASE {name}");
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    private static async Task<PostgresServer> StartAsync()
    {
        var given = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(given))
        {
            return new PostgresServer(given);
        }

        var tried = new List<string>();
        if (DockerMayAnswer())
        {
            try
            {
                return await StartContainerAsync();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                tried.Add($"Testcontainers failed: {exception.Message}");
            }
        }
        else
        {
            tried.Add("no Docker engine answers (no DOCKER_HOST, no /var/run/docker.sock)");
        }

        var bin = PostgresBinaries.Find();
        if (bin is null)
        {
            tried.Add("no initdb and pg_ctl on PATH or under /usr/lib/postgresql/*/bin");
            throw new InvalidOperationException(
                $"No PostgreSQL server for the tests ({string.Join("; ", tried)}). Either set {EnvironmentVariable} to the connection string of a server whose user may create databases, " +
                "or run a Docker engine for Testcontainers, or install the PostgreSQL server binaries (on Debian: apt-get install postgresql; bash .ci/run does this when they are missing).");
        }

        return await Task.Run(() => StartCluster(bin));
    }

    private static bool DockerMayAnswer() =>
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("DOCKER_HOST")) || File.Exists("/var/run/docker.sock");

    private static async Task<PostgresServer> StartContainerAsync()
    {
        var container = new Testcontainers.PostgreSql.PostgreSqlBuilder("postgres:15-alpine").Build();
        await container.StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => container.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return new PostgresServer(new NpgsqlConnectionStringBuilder(container.GetConnectionString()) { IncludeErrorDetail = true }.ConnectionString);
    }

    private static PostgresServer StartCluster(string bin)
    {
        DeleteClustersOfEndedRuns();
        var root = Path.Combine(Path.GetTempPath(), $"forge-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..32]);
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            PostgresBinaries.Run("chown", ["postgres:postgres", root], asPostgres: false);
        }

        var port = PostgresBinaries.FreePort();
        PostgresBinaries.Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], asRoot);
        var settings = $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off -c full_page_writes=off -c shared_buffers=128MB";
        PostgresBinaries.Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(root, "postgres.log"), "-o", settings, "-w", "-t", "60", "start"], asRoot);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                PostgresBinaries.Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], asRoot);
                Directory.Delete(root, recursive: true);
            }
            catch (Exception exception) when (exception is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                // Best effort: the directory lives under the temp folder.
            }
        };

        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            IncludeErrorDetail = true,
        }.ConnectionString;
        return new PostgresServer(connectionString, data, bin);
    }

    /// <summary>Removes the folders of earlier runs whose test process has ended (its exit may not have had time to).</summary>
    private static void DeleteClustersOfEndedRuns()
    {
        foreach (var folder in Directory.GetDirectories(Path.GetTempPath(), "forge-pg-*"))
        {
            var parts = Path.GetFileName(folder).Split('-');
            if (parts.Length > 2 && int.TryParse(parts[2], out var pid) && !IsRunning(pid) && !File.Exists(Path.Combine(folder, "data", "postmaster.pid")))
            {
                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
