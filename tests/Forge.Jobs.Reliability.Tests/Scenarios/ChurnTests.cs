using System.Diagnostics;
using System.Globalization;
using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Npgsql;
using NpgsqlTypes;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 17: churn of jobs (insert, succeed, prune) at a steady rate with a transaction held open for ten
/// minutes in the middle of the run. Table and index sizes plateau once it ends and vacuum catches up, and claim
/// latency returns to what it was before it. The sampled figures are printed as a table (docs/operations.md, "Long
/// transactions and bloat"). <c>FORGE_CHURN_JOBS</c> sets the number of jobs.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class ChurnTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    public const string JobsVariable = "FORGE_CHURN_JOBS";

    /// <summary>250 jobs/s over the 20 minutes of load. On the reference machine (two cores shared with other builds) two
    /// nodes with ledgered handlers run about 900 jobs/s at best, so 1,000,000 jobs in 20 minutes (833/s) would leave no
    /// room; and the held transaction cuts claim throughput to about a quarter within three minutes. At 250/s the
    /// backlog it leaves drains within the last five minutes. See docs/operations.md.</summary>
    private const int DefaultJobs = 300_000;

    private static readonly TimeSpan Before = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Held = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan After = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);

    /// <summary>The size a minute after the long transaction's end may exceed the size at its end by this factor, and
    /// no more (space that vacuum frees is reused; it is not given back).</summary>
    private const double PlateauFactor = 1.25;

    /// <summary>Over the last minute of load the size may rise by this factor, and no more (the pruner runs once a
    /// minute).</summary>
    private const double FlatFactor = 1.10;

    /// <summary>The median claim latency of the last minute of load against that of the minute before the long
    /// transaction.</summary>
    private const double LatencyFactor = 3;

    [FullSetFact]
    public async Task Churn_WithATransactionHeldTenMinutes_SizesPlateauAndClaimLatencyRecovers()
    {
        var jobs = int.TryParse(Environment.GetEnvironmentVariable(JobsVariable), CultureInfo.InvariantCulture, out var given) && given > 0 ? given : DefaultJobs;
        await using var scenario = await Scenario.CreateAsync(database);
        await scenario.DataSource.ExecuteAsync($"CREATE TABLE {scenario.Schema}_enqueued (id bigint NOT NULL)");
        await scenario.StartNodesAsync(2, s => s with
        {
            Queues = new Dictionary<string, int> { ["default"] = 16 },
            LeaseMilliseconds = 30_000,
            RenewMilliseconds = 5_000,
            SucceededRetentionMilliseconds = 15_000,
        });

        var samples = new List<Sample>();
        using var stopSampling = new CancellationTokenSource();
        var sampling = Task.Run(() => SampleAsync(scenario, samples, stopSampling.Token));
        var run = Stopwatch.StartNew();
        var total = Before + Held + After;
        var enqueuing = Task.Run(() => EnqueueSteadilyAsync(scenario, jobs, total));

        await Task.Delay(Before);
        var (heldFrom, heldTo) = await HoldTransactionAsync(scenario);
        var enqueued = await enqueuing;
        var loadEnded = await scenario.DataSource.ScalarAsync<DateTime>("SELECT now()");
        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(15));
        await stopSampling.CancelAsync();
        await sampling;

        output.WriteLine(Table(samples, heldFrom, heldTo));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{enqueued:N0} jobs in {run.Elapsed.TotalMinutes:0.0} min; transaction held {heldFrom:HH:mm:ss} to {heldTo:HH:mm:ss}"));

        // None lost: every enqueued job ran to success, though the pruner has deleted most of them since.
        Assert.Equal(jobs, enqueued);
        Assert.Equal(0L, await scenario.CountAsync("""
            SELECT count(*) FROM {schema}_enqueued AS e
            WHERE NOT EXISTS (SELECT 1 FROM {schema}_ledger AS l WHERE l.job_id = e.id AND l.outcome = 'returned')
            """));

        var atHeldEnd = samples.First(s => s.At >= heldTo);
        var tail = samples.Where(s => s.At <= loadEnded).TakeLast(7).ToList();
        var final = tail[^1];
        Assert.True(final.TotalBytes <= PlateauFactor * atHeldEnd.TotalBytes,
            $"jobs grew from {Mb(atHeldEnd.TotalBytes)} at the end of the long transaction to {Mb(final.TotalBytes)} at the end of the load, more than {PlateauFactor} times.\n{Table(samples, heldFrom, heldTo)}");
        Assert.True(final.TotalBytes <= FlatFactor * tail[0].TotalBytes && final.IndexBytes <= FlatFactor * tail[0].IndexBytes,
            $"jobs kept growing over the last minute of load: {string.Join(", ", tail.Select(s => $"{Mb(s.TotalBytes)} ({Mb(s.IndexBytes)} indexes)"))}.\n{Table(samples, heldFrom, heldTo)}");

        var before = Median(samples.Where(s => s.At < heldFrom && s.At >= heldFrom - TimeSpan.FromMinutes(1)));
        var last = Median(tail.Skip(1));
        var recovered = samples.FirstOrDefault(s => s.At > heldTo && s.P50 <= LatencyFactor * before);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"claim latency p50: {before:0.0} ms the minute before, {last:0.0} ms the last minute of load; back within {LatencyFactor} times {(recovered is null ? "never" : $"{(recovered.At - heldTo).TotalSeconds:0} s after the transaction ended")}"));
        Assert.True(last <= LatencyFactor * before,
            string.Create(CultureInfo.InvariantCulture, $"claim latency (median) was {last:0.0} ms in the last minute of load, against {before:0.0} ms in the minute before the long transaction: more than {LatencyFactor} times.\n{Table(samples, heldFrom, heldTo)}"));
        await scenario.CheckAsync();
    }

    // Opens a transaction that takes a transaction id, as an application that forgot to commit would, holds it for
    // Held (the fault's duration) and rolls it back. Returns its start and end on the database clock.
    private static async Task<(DateTime From, DateTime To)> HoldTransactionAsync(Scenario scenario)
    {
        await using var connection = await scenario.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        await using (var begin = new NpgsqlCommand("SELECT txid_current()", connection, transaction))
        {
            await begin.ExecuteScalarAsync();
        }

        var from = await scenario.DataSource.ScalarAsync<DateTime>("SELECT clock_timestamp()");
        await Task.Delay(Held);
        await transaction.RollbackAsync();
        return (from, await scenario.DataSource.ScalarAsync<DateTime>("SELECT clock_timestamp()"));
    }

    // Enqueues `jobs` WorkJob(0) evenly over `duration`, a call every 100 ms taking what is due by then, and records
    // their ids in {schema}_enqueued: the pruner deletes the jobs, so the ledger is checked against these instead.
    private static async Task<int> EnqueueSteadilyAsync(Scenario scenario, int jobs, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var enqueued = 0;
        while (enqueued < jobs)
        {
            var due = (int)Math.Min(jobs, jobs * (clock.Elapsed / duration));
            if (due > enqueued)
            {
                var count = Math.Min(due - enqueued, 5_000);
                var ids = await scenario.Client.EnqueueManyAsync(Enumerable.Repeat(new WorkJob(), count));
                await RecordAsync(scenario, ids);
                enqueued += ids.Count;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }

        return enqueued;
    }

    private static async Task RecordAsync(Scenario scenario, IReadOnlyList<JobId> ids)
    {
        await using var connection = await scenario.DataSource.OpenConnectionAsync();
        await using var writer = await connection.BeginBinaryImportAsync($"COPY {scenario.Schema}_enqueued (id) FROM STDIN (FORMAT BINARY)");
        foreach (var id in ids)
        {
            await writer.StartRowAsync();
            await writer.WriteAsync(id.Value, NpgsqlDbType.Bigint);
        }

        await writer.CompleteAsync();
    }

    // Every SampleEvery until stopped: the size of jobs with its indexes and toast, of its indexes alone, its dead and
    // live tuples, its available backlog, and the claim latency (handler start minus enqueue) of the jobs that started
    // since the previous sample.
    private static async Task SampleAsync(Scenario scenario, List<Sample> samples, CancellationToken stop)
    {
        var schema = scenario.Schema;
        long seen = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var command = scenario.DataSource.CreateCommand($"""
                    WITH started AS (
                        SELECT l.id, extract(epoch FROM l.started_at - j.created_at) * 1000 AS ms
                        FROM {schema}_ledger AS l JOIN {schema}.jobs AS j ON j.id = l.job_id
                        WHERE l.id > {seen} AND l.attempt = 1)
                    SELECT clock_timestamp(), pg_total_relation_size('{schema}.jobs'), pg_indexes_size('{schema}.jobs'),
                           s.n_dead_tup, s.n_live_tup, s.autovacuum_count,
                           (SELECT count(*) FROM {schema}.jobs WHERE state = 'available'),
                           (SELECT count(*) FROM started),
                           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM started),
                           (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FROM started),
                           (SELECT coalesce(max(id), {seen}) FROM {schema}_ledger)
                    FROM pg_stat_user_tables AS s WHERE s.relid = '{schema}.jobs'::regclass
                    """);
                command.CommandTimeout = 120;
                await using var reader = await command.ExecuteReaderAsync(stop);
                await reader.ReadAsync(stop);
                samples.Add(new Sample(reader.GetDateTime(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5),
                    reader.GetInt64(6), reader.GetInt64(7), reader.IsDBNull(8) ? null : reader.GetDouble(8), reader.IsDBNull(9) ? null : reader.GetDouble(9)));
                seen = reader.GetInt64(10);
                await Task.Delay(SampleEvery, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    // The median of the per-sample medians, weighted by how many jobs each sample saw start.
    private static double Median(IEnumerable<Sample> window)
    {
        var weighted = window.Where(s => s.P50 is not null && s.Started > 0).OrderBy(s => s.P50).ToList();
        Assert.NotEmpty(weighted);
        var half = weighted.Sum(s => s.Started) / 2.0;
        var running = 0L;
        foreach (var sample in weighted)
        {
            running += sample.Started;
            if (running >= half)
            {
                return sample.P50!.Value;
            }
        }

        return weighted[^1].P50!.Value;
    }

    private static string Table(List<Sample> samples, DateTime heldFrom, DateTime heldTo)
    {
        var lines = new List<string>
        {
            "| minute | phase | jobs total | indexes | dead tuples | live tuples | autovacuums | available | started | claim p50 | claim p95 |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        };
        var start = samples[0].At;
        foreach (var s in samples)
        {
            var phase = s.At < heldFrom ? "before" : s.At <= heldTo ? "held" : "after";
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {(s.At - start).TotalMinutes:0.0} | {phase} | {Mb(s.TotalBytes)} | {Mb(s.IndexBytes)} | {s.DeadTuples:N0} | {s.LiveTuples:N0} | {s.Autovacuums} | {s.Available:N0} | {s.Started:N0} | {Ms(s.P50)} | {Ms(s.P95)} |"));
        }

        return string.Join("\n", lines);
    }

    private static string Mb(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MB");

    private static string Ms(double? ms) => ms is { } value ? string.Create(CultureInfo.InvariantCulture, $"{value:0.0} ms") : "-";

    private sealed record Sample(DateTime At, long TotalBytes, long IndexBytes, long DeadTuples, long LiveTuples, long Autovacuums, long Available, long Started, double? P50, double? P95);
}
