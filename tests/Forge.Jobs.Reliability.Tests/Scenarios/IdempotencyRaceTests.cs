using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 13: fifty concurrent enqueues with one idempotency key from ten nodes store one job, and all fifty
/// calls return its id. The ten nodes are ten clients in the test process, each with a service provider and data
/// source of its own (the enqueue path of a node); a node process runs the jobs meanwhile. The calls of a round are
/// released together, and rounds repeat with fresh keys. A key stays taken after its job has finished, until the job
/// is pruned; then the same race stores one new job.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class IdempotencyRaceTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Nodes = 10;
    private const int Calls = 50;
    private const int Rounds = 8;

    [Fact]
    public async Task FiftyConcurrentEnqueuesWithOneKeyFromTenNodes_StoreOneJob_AndAllFiftyReturnItsId()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        await scenario.StartNodeAsync(scenario.NextNode());
        await using var clients = new Clients(scenario);

        var stored = new List<JobId>();
        for (var round = 0; round < Rounds; round++)
        {
            var key = $"order-{round}:{Guid.NewGuid():N}";
            var ids = await clients.RaceAsync(key, track: true);

            var id = Assert.Single(ids.Distinct());
            Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE idempotency_key = '{key}'"));
            Assert.Equal(key, await scenario.DataSource.ScalarAsync<string>($"SELECT idempotency_key FROM {scenario.Schema}.jobs WHERE id = {id.Value}"));
            await AssertPayloadOfOneCallerAsync(scenario, id);
            stored.Add(id);
        }

        output.WriteLine($"calls in flight at once, at the peak of the least concurrent round: {clients.LeastPeak} of {Calls}");
        Assert.Equal(Rounds, stored.Distinct().Count());
        Assert.Equal((long)Rounds, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs"));
        await scenario.UntilAllTerminalAsync();
        Assert.Equal((long)Rounds, await scenario.CountAsync("SELECT count(*) FROM {schema}_ledger"));
        await scenario.CheckAsync();
    }

    [Fact]
    public async Task KeyOfAFinishedJob_StillReturnsThatJob_UntilItIsPruned_ThenTheRaceStoresOneNewJob()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        await scenario.StartNodeAsync(scenario.NextNode());
        await using var clients = new Clients(scenario);
        var key = $"welcome-email:{Guid.NewGuid():N}";

        var first = Assert.Single((await clients.RaceAsync(key, track: false)).Distinct());
        await scenario.UntilAllTerminalAsync();
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {first.Value} AND state = 'succeeded'"));

        // Finished, the job still holds its key: the race returns it and neither stores nor runs anything.
        Assert.Equal(first, Assert.Single((await clients.RaceAsync(key, track: false)).Distinct()));
        Assert.Equal(1L, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE id = {first.Value} AND state = 'succeeded'"));
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {first.Value}"));

        // The pruner's own pass, with a retention of zero, deletes the job and releases the key. The first job's id is left
        // out of I1 (which would call it lost): this test deletes it on purpose, and checks it above.
        Assert.Equal(1, await clients.Store.PruneAsync(TimeSpan.Zero, TimeSpan.FromDays(14), TimeSpan.FromHours(1), 1_000, CancellationToken.None));
        Assert.Equal(0L, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs"));

        var second = Assert.Single((await clients.RaceAsync(key, track: true)).Distinct());
        Assert.True(second.Value > first.Value, $"The job stored after the prune ({second}) should be new, not {first}.");
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}.jobs WHERE idempotency_key = '{key}'"));
        await scenario.UntilAllTerminalAsync();
        Assert.Equal(1L, await scenario.CountAsync($"SELECT count(*) FROM {{schema}}_ledger WHERE job_id = {second.Value}"));
        await scenario.CheckAsync();
    }

    // The stored payload is the one of whichever call won; the other calls' payloads were ignored.
    private static async Task AssertPayloadOfOneCallerAsync(Scenario scenario, JobId id)
    {
        var padding = await scenario.DataSource.ScalarAsync<string>($"SELECT payload ->> 'padding' FROM {scenario.Schema}.jobs WHERE id = {id.Value}");
        Assert.Matches("^caller-[0-9]+$", padding);
    }

    /// <summary>Ten clients, as ten nodes would enqueue: each with its own service provider and connection pool,
    /// named after it in <c>pg_stat_activity</c>. None of them is started; only their clients are used.</summary>
    private sealed class Clients : IAsyncDisposable
    {
        private readonly Scenario _scenario;
        private readonly ServiceProvider[] _providers;
        private int _inFlight;
        private int _peak;

        public Clients(Scenario scenario)
        {
            _scenario = scenario;
            _providers = [.. Enumerable.Range(1, Nodes).Select(n => new ServiceCollection()
                .AddLogging()
                .AddForgeJobs(forge => forge
                    .UsePostgres(new NpgsqlConnectionStringBuilder(scenario.ConnectionString) { ApplicationName = $"{scenario.Schema}-client-{n}" }.ConnectionString, o => o.Schema = scenario.Schema)
                    .AddHandler<WorkHandler, WorkJob>())
                .BuildServiceProvider())];
        }

        public IJobStore Store => _providers[0].GetRequiredService<IJobStore>();

        /// <summary>Of every race so far, the lowest peak of calls in flight at once: how real the races were.</summary>
        public int LeastPeak { get; private set; } = int.MaxValue;

        /// <summary>Releases <see cref="Calls"/> enqueues with <paramref name="key"/>, spread over the clients, at once.</summary>
        public async Task<JobId[]> RaceAsync(string key, bool track)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var calls = Enumerable.Range(0, Calls).Select(async call =>
            {
                await start.Task;
                var client = _providers[call % Nodes].GetRequiredService<IJobClient>();
                var inFlight = Interlocked.Increment(ref _inFlight);
                InterlockedMax(ref _peak, inFlight);
                try
                {
                    return await client.EnqueueAsync(new WorkJob(Padding: $"caller-{call}"), new JobOptions { IdempotencyKey = key });
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }).ToList();
            _peak = 0;
            start.SetResult();
            var ids = await Task.WhenAll(calls);
            LeastPeak = Math.Min(LeastPeak, _peak);
            Assert.Equal(Calls, ids.Length);
            if (track)
            {
                _scenario.Track(ids.Distinct());
            }

            return ids;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var provider in _providers)
            {
                await provider.DisposeAsync();
            }
        }

        private static void InterlockedMax(ref int location, int value)
        {
            var seen = Volatile.Read(ref location);
            while (value > seen && Interlocked.CompareExchange(ref location, value, seen) is var actual && actual != seen)
            {
                seen = actual;
            }
        }
    }
}
