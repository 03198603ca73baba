using System.Diagnostics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Forge.Jobs.Scheduling;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Forge.Jobs.Tests.Scheduling;

/// <summary>Exactly-once firing of cron schedules on PostgreSQL, with nodes that share one database and schema and
/// one fake clock that the test moves. Cron occurrences are due by the store's clock, so the stores report that fake
/// clock as theirs (<see cref="StoreClock"/>).</summary>
public sealed class PostgresCronTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const int Occurrences = 1000;
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Cron_ThreeNodesOnOneDatabase_EnqueueEachOf1000OccurrencesExactlyOnce()
    {
        const string Schema = "cron_three_nodes";
        var clock = new FakeTimeProvider(Start);
        var recorder = new Recorder();
        await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
        var stores = new List<PostgresJobStore>();
        async Task<TestNode> StartNode()
        {
            var store = await database.OpenStoreAsync(Schema);
            stores.Add(store);
            return await TestNode.StartAsync(
                StoreClock.Wrap(store, clock),
                f => f.AddHandler<CronTickHandler, CronTick>().AddRecurring("every-second", "* * * * * *", new CronTick("tick")),
                clock,
                s => s.AddSingleton(recorder));
        }

        var nodes = new List<TestNode> { await StartNode(), await StartNode(), await StartNode() };
        try
        {
            var seconds = 0;
            while (seconds < Occurrences)
            {
                var step = 1;
                if (seconds == 400)
                {
                    // The leader leaves (resigning its lease). The others notice at their next renewal, within
                    // LeaseRenewInterval (10 s): the occurrences of those 10 s are late by less than the misfire
                    // threshold, so the new leader enqueues each of them.
                    var leader = (await nodes[0].Client.ListNodesAsync()).Single(n => n.IsLeader).Id;
                    var leaving = nodes.Single(n => n.Node.NodeId == leader);
                    nodes.Remove(leaving);
                    await leaving.DisposeAsync();
                    step = 10;
                }
                else if (seconds == 700)
                {
                    // A third node joins again; it re-registers the schedule, which keeps its cursor.
                    nodes.Add(await StartNode());
                }

                clock.Advance(TimeSpan.FromSeconds(step));
                seconds += step;
                await UntilAsync(dataSource, Schema, seconds);
            }

            var keys = await KeysAsync(dataSource, Schema);
            var expected = Enumerable.Range(1, Occurrences).Select(s => ScheduleNames.OccurrenceKey("every-second", Start.AddSeconds(s))).ToList();
            Assert.Equal(expected, keys.Select(k => k.Key));
            Assert.All(keys, k => Assert.Equal(1, k.Count));
            Assert.Equal(Occurrences, await dataSource.ScalarAsync<long>($"SELECT count(*) FROM {Schema}.jobs"));

            var schedule = await nodes[0].Client.GetScheduleAsync("every-second");
            Assert.Equal((Start.AddSeconds(Occurrences), Start.AddSeconds(Occurrences + 1)), (schedule!.LastRunAt!.Value, schedule.NextRunAt!.Value));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Cron_ThreeSchedulersThatAllBelieveTheyLead_EnqueueEachOccurrenceOnce()
    {
        const string Schema = "cron_overlap";
        var clock = new FakeTimeProvider(Start);
        var options = new ForgeJobsOptions();
        var registry = new JobTypeRegistry(Options.Create(options));
        var stores = new List<PostgresJobStore>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var source = NpgsqlDataSource.Create(database.ConnectionString);
                stores.Add(new PostgresJobStore(source, ownsDataSource: true, new PostgresStoreOptions { Schema = Schema }, new PostgresNotifier(source, ownsDataSource: false, NullLogger.Instance)));
            }

            foreach (var (name, expression) in new[] { ("every-second", "* * * * * *"), ("every-5s", "*/5 * * * * *") })
            {
                var definition = ScheduleDefinitions.Create(name, expression, new CronTick(name), new ScheduleOptions(), registry);
                await stores[0].UpsertScheduleAsync(definition, ScheduleDefinitions.FirstRunAfter(definition, Start), default);
            }

            // No leader election at all: every scheduler passes at every step, at the same moment, racing on the cursors.
            var fires = new FireCounter();
            var schedulers = stores.Select(store => new CronScheduler(fires.Wrap(StoreClock.Wrap(store, clock)), () => true, new CronContext(clock), registry, options, NullLogger.Instance)).ToList();
            var random = new Random(4);
            var seconds = 0;
            while (seconds < 300)
            {
                var step = random.Next(1, 4);
                clock.Advance(TimeSpan.FromSeconds(step));
                seconds += step;
                await Task.WhenAll(schedulers.Select(s => Task.Run(() => s.PassAsync(default))));
            }

            await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
            var keys = await KeysAsync(dataSource, Schema);
            var expected = Enumerable.Range(1, seconds).Select(s => ScheduleNames.OccurrenceKey("every-second", Start.AddSeconds(s)))
                .Concat(Enumerable.Range(1, seconds / 5).Select(s => ScheduleNames.OccurrenceKey("every-5s", Start.AddSeconds(5 * s))))
                .Order(StringComparer.Ordinal);
            Assert.Equal(expected, keys.Select(k => k.Key));
            Assert.All(keys, k => Assert.Equal(1, k.Count));

            // The schedulers did overlap: for most fires, two of them lost the compare-and-set.
            Assert.True(fires.Lost > fires.Won, $"{fires.Won} fires won, {fires.Lost} lost");
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    /// <summary>Waits until the schedule's jobs for the first <paramref name="count"/> seconds are stored, reading the
    /// store every 2 ms (a poll of the condition, not a fixed sleep).</summary>
    private static async Task UntilAsync(NpgsqlDataSource dataSource, string schema, int count)
    {
        var waited = Stopwatch.StartNew();
        var last = Start.AddSeconds(count);
        var key = ScheduleNames.OccurrenceKey("every-second", last);
        while (await dataSource.ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs WHERE idempotency_key = '{key}'") == 0)
        {
            if (waited.Elapsed > Wait.Timeout)
            {
                throw new TimeoutException($"Timed out after {Wait.Timeout.TotalSeconds} s waiting for the occurrence at {last:O}; {await dataSource.ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs")} jobs are stored.");
            }

            await Task.Delay(2);
        }
    }

    private static async Task<List<(string Key, long Count)>> KeysAsync(NpgsqlDataSource dataSource, string schema)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT idempotency_key, count(*) FROM {schema}.jobs GROUP BY idempotency_key ORDER BY idempotency_key COLLATE \"C\"");
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<(string, long)>();
        while (await reader.ReadAsync())
        {
            keys.Add((reader.IsDBNull(0) ? "(none)" : reader.GetString(0), reader.GetInt64(1)));
        }

        return keys;
    }

    /// <summary>Counts the fires that won and lost their compare-and-set, across the stores it wraps.</summary>
    private sealed class FireCounter
    {
        private int _won;
        private int _lost;

        public int Won => Volatile.Read(ref _won);

        public int Lost => Volatile.Read(ref _lost);

        public IJobStore Wrap(IJobStore inner)
        {
            var store = DispatchProxy.Create<IJobStore, Proxy>();
            ((Proxy)(object)store).Init(inner, this);
            return store;
        }

        private async Task<bool> FireAsync(IJobStore inner, ScheduleFire fire, CancellationToken cancellationToken)
        {
            var won = await inner.FireScheduleAsync(fire, cancellationToken);
            Interlocked.Increment(ref won ? ref _won : ref _lost);
            return won;
        }

#pragma warning disable CA1852 // DispatchProxy needs an unsealed type.
        internal class Proxy : DispatchProxy
#pragma warning restore CA1852
        {
            private IJobStore? _inner;
            private FireCounter? _counter;

            public void Init(IJobStore inner, FireCounter counter) => (_inner, _counter) = (inner, counter);

            protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
            {
                ArgumentNullException.ThrowIfNull(targetMethod);
                if (targetMethod.Name == nameof(IJobStore.FireScheduleAsync))
                {
                    return _counter!.FireAsync(_inner!, (ScheduleFire)args![0]!, (CancellationToken)args[1]!);
                }

                try
                {
                    return targetMethod.Invoke(_inner, args);
                }
                catch (TargetInvocationException exception) when (exception.InnerException is not null)
                {
                    ExceptionDispatchInfo.Capture(exception.InnerException).Throw();
                    throw;
                }
            }
        }
    }
}
