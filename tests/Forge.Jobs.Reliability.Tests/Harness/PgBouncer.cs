using System.Diagnostics;
using System.Globalization;
using System.Text;
using Forge.Jobs.Tests.Support;
using Npgsql;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>A throw-away PgBouncer in transaction mode between nodes and the scenario's PostgreSQL: its own ini and
/// userlist in a temporary folder, loopback on a free port, trust authentication, logging in to the server as the
/// user of the direct connection string. Started as a child process (switching to the <c>postgres</c> user when the
/// tests run as root, which PgBouncer refuses), killed on dispose.</summary>
internal sealed class PgBouncer : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/pgbouncer";

    public const string InstallHint = "PgBouncer is not installed (no " + Binary + "); install it with `apt-get install -y pgbouncer`, " +
        "or run the full set with `bash tests/Forge.Jobs.Reliability.Tests/run-full.sh`, which installs it.";

    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _output = new();

    private PgBouncer(Process process, string folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public static bool IsInstalled => File.Exists(Binary);

    public int Port { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a PgBouncer in front of the server of <paramref name="direct"/> and waits until it answers a
    /// query for that database.</summary>
    public static async Task<PgBouncer> StartAsync(string direct, int poolSize = 20)
    {
        var server = new NpgsqlConnectionStringBuilder(direct);
        var folder = Path.Combine(Path.GetTempPath(), $"forge-pgbouncer-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(folder);
        var port = PostgresBinaries.FreePort();
        var ini = Path.Combine(folder, "pgbouncer.ini");
        var users = Path.Combine(folder, "userlist.txt");
        await File.WriteAllTextAsync(users, $"\"{server.Username}\" \"\"\n");
        await File.WriteAllTextAsync(ini, string.Create(CultureInfo.InvariantCulture, $"""
            [databases]
            * = host={server.Host} port={server.Port} user={server.Username}

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = {port}
            unix_socket_dir =
            auth_type = trust
            auth_file = {users}
            pool_mode = transaction
            max_client_conn = 2000
            default_pool_size = {poolSize}
            server_login_retry = 1
            server_connect_timeout = 5
            ignore_startup_parameters = extra_float_digits
            log_connections = 0
            log_disconnections = 0

            """));
        var start = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Environment.UserName == "root")
        {
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("postgres");
        }

        start.ArgumentList.Add(ini);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Binary}.");
        var bouncer = new PgBouncer(process, folder, port);
        process.OutputDataReceived += (_, e) => bouncer.Record(e.Data);
        process.ErrorDataReceived += (_, e) => bouncer.Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await bouncer.AcceptsAsync(server);
        }
        catch
        {
            await bouncer.DisposeAsync();
            throw;
        }

        return bouncer;
    }

    /// <summary><paramref name="direct"/>, pointed at this PgBouncer and otherwise unchanged: the store turns automatic
    /// preparation off by itself when its options say it is behind a pooler (docs/postgresql.md).</summary>
    public string ConnectionString(string direct) => new NpgsqlConnectionStringBuilder(direct) { Host = "127.0.0.1", Port = Port }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the folder lives under the temp folder.
        }
    }

    private async Task AcceptsAsync(NpgsqlConnectionStringBuilder server)
    {
        var connectionString = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = server.Username, Database = server.Database, Timeout = 5, Pooling = false }.ConnectionString;
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"PgBouncer exited with code {_process.ExitCode} before accepting connections:\n{Output}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync();
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException && elapsed.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
