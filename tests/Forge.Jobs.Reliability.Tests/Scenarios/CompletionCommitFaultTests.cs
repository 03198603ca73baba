using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 7: a fault exactly between a handler's return and its completion commit. The test holds the job
/// row locked (as a handler's own transaction would) while the handler runs, so the completion that follows its return
/// waits on that lock, visibly, in <c>pg_stat_activity</c>; the fault strikes then. The job runs again at least once,
/// is never left <c>running</c>, and a handler that completes its job in its own transaction leaves its side effect
/// exactly once.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class CompletionCommitFaultTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    /// <summary>Long enough for the test to lock the job row while the handler still runs, even on a loaded machine.</summary>
    private const int HandlerMilliseconds = 4_000;

    /// <summary>Retries soon, so that the re-run does not wait for the default backoff.</summary>
    private static readonly JobOptions Options = new() { Backoff = new RetryBackoff { InitialDelay = TimeSpan.FromMilliseconds(200), Jitter = 0 } };

    [Fact]
    public async Task NodeDiesWhileItsCompletionWaits_JobIsRescuedAndRunsAgain_NeverStuckRunning()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        var nodes = await scenario.StartNodesAsync(2, ShortLeases);
        var id = (await scenario.EnqueueAsync([new WorkJob(HandlerMilliseconds)], Options))[0].Value;
        var victim = await RunningOnAsync(scenario, nodes, id);
        var rescuer = nodes.Single(n => n != victim);

        await using (await scenario.FaultAsync("completion-blocked", victim))
        await using (var row = await RowLock.TakeAsync(scenario, id))
        {
            await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id} AND outcome = 'returned'", 1, "the handler to return");
            var completion = await row.WaiterAsync(victim);
            await scenario.KillAsync(victim);
            // A statement already sent still commits when its lock frees, unless PostgreSQL has noticed that its client
            // is gone (it notices only when it next reads, or with client_connection_check_interval). A node that dies
            // with its connection, as on a machine failure, takes the statement with it.
            await scenario.DataSource.ExecuteAsync($"SELECT pg_terminate_backend({completion})");
            await UntilGoneAsync(scenario, victim);
        }

        await scenario.UntilAllTerminalAsync();
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {id} AND state = 'succeeded' AND attempt = 2 AND lease_owner = '{rescuer.NodeId}'"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.job_attempts WHERE job_id = {id} AND attempt = 1 AND node = '{victim.NodeId}' AND outcome = 'lease_expired'"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id} AND attempt = 2 AND node = '{rescuer.NodeId}' AND outcome = 'returned'"));
        await scenario.CheckAsync();
    }

    [Fact]
    public async Task NodeDiesWhileItsTransactionalCompletionWaits_SideEffectRollsBackWithIt_AndExistsOnceAfterTheRerun()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        var nodes = await scenario.StartNodesAsync(2, ShortLeases);
        var id = (await scenario.EnqueueAsync([new TransactionalJob(HandlerMilliseconds)], Options))[0].Value;
        var victim = await RunningOnAsync(scenario, nodes, id);
        var rescuer = nodes.Single(n => n != victim);

        await using (await scenario.FaultAsync("completion-blocked", victim))
        await using (var row = await RowLock.TakeAsync(scenario, id))
        {
            // The handler has written its side effect and waits in CompleteAsync(transaction), inside its own transaction.
            await row.WaiterAsync(victim);
            Assert.Equal(0L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_effects WHERE job_id = {id}"));
            await scenario.KillAsync(victim);
        }

        // The dead node never sent COMMIT: once the lock is free, its backend reads the closed connection and rolls back.
        await UntilGoneAsync(scenario, victim);
        Assert.Equal(0L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_effects WHERE job_id = {id}"));
        await scenario.UntilAllTerminalAsync();
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {id} AND state = 'succeeded' AND attempt = 2 AND lease_owner = '{rescuer.NodeId}'"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.job_attempts WHERE job_id = {id} AND attempt = 1 AND outcome = 'lease_expired'"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_effects WHERE job_id = {id}"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_effects WHERE job_id = {id} AND attempt = 2"));
        await scenario.CheckAsync();
    }

    [Fact]
    public async Task CompletionConnectionKilledWhileItWaits_NodeLivesOn_JobEndsSucceededNotStuckRunning()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        var node = await scenario.StartNodeAsync(ShortLeases(scenario.NextNode()));
        var id = (await scenario.EnqueueAsync([new WorkJob(HandlerMilliseconds)], Options))[0].Value;
        await RunningOnAsync(scenario, [node], id);

        await using (await scenario.FaultAsync("completion-connection-terminated", node))
        await using (var row = await RowLock.TakeAsync(scenario, id))
        {
            await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id} AND outcome = 'returned'", 1, "the handler to return");
            var completion = await row.WaiterAsync(node);
            await scenario.DataSource.ExecuteAsync($"SELECT pg_terminate_backend({completion})");
            await scenario.UntilAsync(async () => await scenario.CountAsync($"SELECT count(*) FROM pg_stat_activity WHERE pid = {completion}") == 0, "the completion's backend to end");
        }

        await scenario.UntilAllTerminalAsync();
        Assert.False(node.HasExited, $"The node died:\n{node.Output}");
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {id} AND state = 'succeeded'"));
        // Either the node's completer stored the outcome on a retry once the lock was free (attempt 1), or it gave up
        // before the lease lapsed and the rescuer had the job run again (attempt 2); which one depends on timing.
        output.WriteLine($"succeeded at attempt {await scenario.CountAsync($"SELECT attempt::bigint FROM {{schema}}.jobs WHERE id = {id}")}");
        await scenario.CheckAsync();
    }

    private static NodeSettings ShortLeases(NodeSettings settings) =>
        settings with { LeaseMilliseconds = 3_000, RenewMilliseconds = 1_000, RescueMilliseconds = 500 };

    // The node whose handler has started the job's first attempt.
    private static async Task<NodeProcess> RunningOnAsync(Scenario scenario, IReadOnlyList<NodeProcess> nodes, long id)
    {
        await scenario.UntilCountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {id} AND attempt = 1", 1, "the job to start");
        var owner = await scenario.DataSource.ScalarAsync<string>($"SELECT node FROM {scenario.Schema}_ledger WHERE job_id = {id} AND attempt = 1");
        return nodes.Single(n => n.NodeId == owner);
    }

    private static Task UntilGoneAsync(Scenario scenario, NodeProcess node) =>
        scenario.UntilAsync(async () => await scenario.CountAsync($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{node.NodeId}'") == 0,
            $"the sessions of {node.NodeId} to end");

    /// <summary>The job row, locked FOR UPDATE in a transaction of the test's own until disposed, which rolls back.</summary>
    private sealed class RowLock : IAsyncDisposable
    {
        private readonly Scenario _scenario;
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _transaction;

        private RowLock(Scenario scenario, NpgsqlConnection connection, NpgsqlTransaction transaction)
        {
            _scenario = scenario;
            _connection = connection;
            _transaction = transaction;
        }

        public static async Task<RowLock> TakeAsync(Scenario scenario, long id)
        {
            var connection = await scenario.DataSource.OpenConnectionAsync();
            var transaction = await connection.BeginTransactionAsync();
            var row = new RowLock(scenario, connection, transaction);
            await using var command = new NpgsqlCommand($"SELECT state::text, attempt FROM {scenario.Schema}.jobs WHERE id = $1 FOR UPDATE", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = id });
            await using (var reader = await command.ExecuteReaderAsync())
            {
                await reader.ReadAsync();
                // The handler sleeps for HandlerMilliseconds, so this holds unless the machine stalled the test for that long.
                Assert.True(reader.GetString(0) == "running" && reader.GetInt32(1) == 1,
                    $"The job was {reader.GetString(0)} at attempt {reader.GetInt32(1)} when the test locked it; it should still run attempt 1.");
            }

            return row;
        }

        /// <summary>Waits until a session of <paramref name="node"/> waits for this lock, and returns its backend's pid.</summary>
        public async Task<int> WaiterAsync(NodeProcess node)
        {
            var sql = $"SELECT coalesce(min(pid), 0) FROM pg_stat_activity WHERE application_name = '{node.NodeId}' AND wait_event_type = 'Lock' AND {_connection.ProcessID} = ANY (pg_blocking_pids(pid))";
            var pid = 0;
            await _scenario.UntilAsync(async () => (pid = await _scenario.DataSource.ScalarAsync<int>(sql)) != 0, $"a session of {node.NodeId} to wait for the test's lock on the job row");
            return pid;
        }

        public async ValueTask DisposeAsync()
        {
            await _transaction.RollbackAsync();
            await _transaction.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
