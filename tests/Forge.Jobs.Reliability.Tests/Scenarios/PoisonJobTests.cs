using System.Globalization;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 8: poison jobs (a payload that does not fit its type, an unknown type, a handler that always
/// throws, and one that calls <see cref="Environment.FailFast(string)"/> on every run). Each ends <c>dead</c> with its
/// error after its counted attempts; the cluster does not crash-loop; a healthy queue keeps at least 90 % of its
/// throughput. The first two cannot be enqueued through the client (it serializes the payload from the job's own type,
/// and refuses types without a name), so they are inserted behind its back; the column is jsonb, so a stored payload is
/// always JSON, and "invalid" means JSON that does not deserialize to the type. The fail-fast job runs on a node of its
/// own, which the test restarts under a new id each time it dies, as a supervisor would; the other poison shares a node
/// with the healthy queue.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class PoisonJobTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int MaxRetries = 2;
    private const int FailFastMaxRetries = 1;
    private const int PoisonOfEachKind = 12;
    private const int HealthyBacklog = 100;
    private const string UnknownType = "no_such_type";

    /// <summary>The shortest a measured span lasts; the poison phase lasts until every poison job is dead.</summary>
    private static readonly TimeSpan Phase = TimeSpan.FromSeconds(4);

    private static readonly RetryBackoff Fast = new() { InitialDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromMilliseconds(200), Jitter = 0 };
    private static readonly JobOptions Healthy = new() { Queue = "healthy" };

    [Fact]
    public async Task PoisonJobs_EndDeadWithTheirErrorAfterTheirAttempts_NoCrashLoop_HealthyQueueKeepsItsThroughput()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        NodeSettings Node(Dictionary<string, int> queues) => scenario.NextNode() with { Queues = queues, LeaseMilliseconds = 3_000, RenewMilliseconds = 1_000, RescueMilliseconds = 500 };
        await using var supervisor = new Supervisor(scenario, () => Node(new() { ["fatal"] = 1 }));
        await using var feeder = new Feeder(scenario);
        var starting = scenario.StartNodeAsync(Node(new() { ["healthy"] = 8, ["poison"] = 2 }));
        await Task.WhenAll(starting, supervisor.StartAsync());
        var shared = await starting;

        await scenario.UntilCountAsync("SELECT count(*) FROM {schema}_ledger WHERE outcome = 'returned'", 20, "the healthy queue to warm up");
        var before = await MeasureAsync(scenario, await NowAsync(scenario));

        var poisonStart = await NowAsync(scenario);
        var misfit = await InsertAsync(scenario, "work", """{"milliseconds": "soon"}""");
        var jsonNull = await InsertAsync(scenario, "work", "null");
        var unknown = await InsertAsync(scenario, UnknownType, "{}");
        var throwing = new List<long>();
        for (var i = 1; i <= PoisonOfEachKind; i++)
        {
            throwing.Add((await scenario.Client.EnqueueAsync(new WorkJob(Fail: true), new JobOptions { Queue = "poison", MaxRetries = MaxRetries, Backoff = Fast, Delay = Spread(i) })).Value);
        }

        scenario.Track(misfit.Concat(jsonNull).Concat(unknown).Concat(throwing).Select(id => new JobId(id)));
        var failFast = (await scenario.EnqueueAsync([new FailFastJob()], new JobOptions { Queue = "fatal", MaxRetries = FailFastMaxRetries, Backoff = Fast }))[0].Value;
        await scenario.UntilAsync(async () => await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE queue <> 'healthy' AND state <> 'dead'") == 0,
            "every poison job to be dead", TimeSpan.FromSeconds(90));
        var poisoned = await MeasureAsync(scenario, poisonStart);
        var after = await MeasureAsync(scenario, await NowAsync(scenario));
        await feeder.DisposeAsync();
        await scenario.UntilAllTerminalAsync();

        await AssertDeadAsync(scenario, misfit, MaxRetries, "does not deserialize to Forge.Jobs.Reliability.WorkJob");
        await AssertDeadAsync(scenario, jsonNull, MaxRetries, "is JSON null; expected a WorkJob");
        await AssertDeadAsync(scenario, unknown, MaxRetries, $"No handler is registered for job type '{UnknownType}'");
        await AssertDeadAsync(scenario, throwing, MaxRetries, "This job always fails.");
        await AssertDeadAsync(scenario, [failFast], FailFastMaxRetries, "LeaseExpiredException");
        Assert.Equal(FailFastMaxRetries + 1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {failFast}"));

        // One crash per counted attempt, then none: the node the supervisor started last is alive, and so is the shared one.
        await scenario.UntilAsync(supervisor.HasReplacedEveryDeadNodeAsync, "the supervisor to replace the last node that died");
        Assert.Equal(FailFastMaxRetries + 1, supervisor.Crashes.Count);
        Assert.All(supervisor.Crashes, crash => Assert.NotEqual(0, crash));
        Assert.False(supervisor.Current.HasExited, $"The fatal queue's node died after its poison job was dead:\n{supervisor.Current.Output}");
        Assert.False(shared.HasExited, $"The shared node died:\n{shared.Output}");

        // The baseline brackets the poison phase (before and after it), so that a change in the machine's load from
        // other work during the test weighs on both sides alike.
        var baseline = (before.Jobs + after.Jobs) / (before.Seconds + after.Seconds);
        var ratio = poisoned.Rate / baseline;
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"healthy queue: {poisoned.Rate:F1} jobs/s over {poisoned.Seconds:F1} s with poison present, {ratio:P0} of {baseline:F1} jobs/s without ({before.Rate:F1} before, {after.Rate:F1} after)");
        output.WriteLine(figures);
        Assert.True(ratio >= 0.9, figures);
        await scenario.CheckAsync();
    }

    private static TimeSpan Spread(int i) => Phase * i / PoisonOfEachKind;

    // Poison jobs of one kind, due over the phase, as the client could not have stored them.
    private static async Task<List<long>> InsertAsync(Scenario scenario, string type, string payload)
    {
        await using var command = scenario.DataSource.CreateCommand($"""
            INSERT INTO {scenario.Schema}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at, backoff_initial_ms, backoff_max_ms, backoff_jitter)
            SELECT $1, 'poison', 'scheduled', 5, $2, 300000, $3::jsonb, now() + i * $4 * interval '1 millisecond', $5, $5, 0
            FROM generate_series(1, $6) AS i
            RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = type });
        command.Parameters.Add(new NpgsqlParameter { Value = MaxRetries });
        command.Parameters.Add(new NpgsqlParameter { Value = payload });
        command.Parameters.Add(new NpgsqlParameter { Value = Spread(1).TotalMilliseconds });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)Fast.InitialDelay.TotalMilliseconds });
        command.Parameters.Add(new NpgsqlParameter { Value = PoisonOfEachKind });
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    private static async Task AssertDeadAsync(Scenario scenario, List<long> ids, int maxRetries, string error)
    {
        var list = string.Join(",", ids);
        var attempts = maxRetries + 1;
        Assert.Equal(ids.Count, await scenario.CountAsync($"""
            SELECT count(*) FROM {scenario.Schema}.jobs
            WHERE id IN ({list}) AND state = 'dead' AND attempt = {attempts} AND failures = {attempts} AND strpos(last_error, '{error.Replace("'", "''", StringComparison.Ordinal)}') > 0
            """));
        Assert.Equal(ids.Count * attempts, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.job_attempts WHERE job_id IN ({list}) AND outcome IN ('failed', 'lease_expired')"));
    }

    private static Task<DateTime> NowAsync(Scenario scenario) => scenario.DataSource.ScalarAsync<DateTime>("SELECT clock_timestamp()");

    // The healthy jobs whose run returned from start until now, once at least Phase has passed since start.
    private static async Task<Window> MeasureAsync(Scenario scenario, DateTime start)
    {
        var elapsed = await NowAsync(scenario) - start;
        if (elapsed < Phase)
        {
            await Task.Delay(Phase - elapsed);
        }

        var end = await NowAsync(scenario);
        return new Window(await HealthyReturnedAsync(scenario, start, end), (end - start).TotalSeconds);
    }

    private static async Task<long> HealthyReturnedAsync(Scenario scenario, DateTime start, DateTime end)
    {
        await using var command = scenario.DataSource.CreateCommand($"""
            SELECT count(*) FROM {scenario.Schema}_ledger AS l JOIN {scenario.Schema}.jobs AS j ON j.id = l.job_id
            WHERE j.queue = 'healthy' AND l.outcome = 'returned' AND l.ended_at >= $1 AND l.ended_at < $2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = start, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = end, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The healthy jobs that returned within a span of the database clock.</summary>
    private sealed record Window(long Jobs, double Seconds)
    {
        public double Rate => Jobs / Seconds;
    }

    /// <summary>Keeps one node of the fatal queue running: when it dies, records the crash as a fault on it and starts
    /// another under a new id.</summary>
    private sealed class Supervisor(Scenario scenario, Func<NodeSettings> settings) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<int> _crashes = [];
        private Task _watching = Task.CompletedTask;
        private int _started;

        /// <summary>The node started last, once it is ready.</summary>
        public NodeProcess Current { get; private set; } = null!;

        /// <summary>Whether every node that died has a successor that is ready; throws if starting one failed.</summary>
        public async Task<bool> HasReplacedEveryDeadNodeAsync()
        {
            if (_watching.IsFaulted)
            {
                await _watching;
            }

            return Volatile.Read(ref _started) == Crashes.Count + 1;
        }

        /// <summary>The exit codes of the nodes that died.</summary>
        public IReadOnlyList<int> Crashes
        {
            get
            {
                lock (_crashes)
                {
                    return [.. _crashes];
                }
            }
        }

        public async Task StartAsync()
        {
            Current = await scenario.StartNodeAsync(settings());
            Interlocked.Increment(ref _started);
            _watching = WatchAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            // A node that failed to start is reported by HasReplacedEveryDeadNodeAsync, or by the wait it held up.
            await _watching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _stop.Dispose();
        }

        private async Task WatchAsync()
        {
            var stopped = Task.Delay(Timeout.Infinite, _stop.Token);
            while (true)
            {
                var exited = Current.WaitForExitAsync(Timeout.InfiniteTimeSpan);
                if (await Task.WhenAny(exited, stopped) != exited)
                {
                    return;
                }

                await using (await scenario.FaultAsync("fail-fast", Current))
                {
                    lock (_crashes)
                    {
                        _crashes.Add(Current.ExitCode);
                    }
                }

                Current = await scenario.StartNodeAsync(settings());
                Interlocked.Increment(ref _started);
            }
        }
    }

    /// <summary>Keeps the healthy queue's backlog topped up until disposed, so that it never runs dry while it is measured.</summary>
    private sealed class Feeder : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _feeding;

        public Feeder(Scenario scenario) => _feeding = FeedAsync(scenario, _stop.Token);

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested)
            {
                await _stop.CancelAsync();
                await _feeding;
                _stop.Dispose();
            }
        }

        private static async Task FeedAsync(Scenario scenario, CancellationToken stop)
        {
            var batch = Enumerable.Repeat(new WorkJob(200), HealthyBacklog).ToList();
            while (!stop.IsCancellationRequested)
            {
                if (await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE queue = 'healthy' AND state = 'available'") < HealthyBacklog)
                {
                    await scenario.EnqueueAsync(batch, Healthy);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
