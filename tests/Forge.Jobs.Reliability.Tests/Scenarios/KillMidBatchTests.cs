using Forge.Jobs.Reliability.Tests.Harness;
using Forge.Jobs.Tests.Support;
using Xunit.Abstractions;

namespace Forge.Jobs.Reliability.Tests.Scenarios;

/// <summary>Scenario 1: SIGKILL one of three nodes mid-batch (10,000 jobs of 50–500 ms): orphaned jobs re-run within
/// lease + rescue interval; none lost; attempts counted.</summary>
[Collection(ScenarioGroup.Name)]
public sealed class KillMidBatchTests(PostgresDatabase database, ITestOutputHelper output) : IClassFixture<PostgresDatabase>
{
    private const int Jobs = 10_000;
    private const int Concurrency = 64;

    /// <summary>The enqueuer adds this many jobs whenever fewer than this many wait, so the batch flows through the
    /// cluster instead of queueing up in front of it: a rescued job is retried behind the jobs already available (claims
    /// go by priority, then run-at), and a queue thousands deep would hold it back for however long those take.</summary>
    private const int Chunk = 100;

    /// <summary>For round trips and late ticks: the suite shares two cores with other work.</summary>
    private static readonly TimeSpan Allowance = TimeSpan.FromSeconds(2);

    [FullSetFact]
    public async Task SigkillMidBatch_OrphansAreRescuedAndRerunWithinLeasePlusRescueInterval_NoneLost()
    {
        await using var scenario = await Scenario.CreateAsync(database);
        // A lease of 15 s rather than the suite's 6 s: on two shared cores a busy node can stall for seconds, and a
        // survivor that misses its renewals loses jobs it did hold, which this scenario would count against the kill.
        var nodes = await scenario.StartNodesAsync(3, n => n with
        {
            Queues = new Dictionary<string, int> { ["default"] = Concurrency },
            LeaseMilliseconds = 15_000,
            RenewMilliseconds = 3_000,
        });
        var settings = nodes[0].Settings;
        var lease = TimeSpan.FromMilliseconds(settings.LeaseMilliseconds);
        var renew = TimeSpan.FromMilliseconds(settings.RenewMilliseconds);
        var rescue = TimeSpan.FromMilliseconds(settings.RescueMilliseconds);
        var poll = TimeSpan.FromMilliseconds(settings.PollMilliseconds);
        var random = new Random(1);
        var batch = Enumerable.Range(0, Jobs).Select(_ => new WorkJob(random.Next(50, 501))).ToList();

        var enqueued = 0;
        async Task EnqueueUntilAsync(int count)
        {
            while (enqueued < count)
            {
                await scenario.UntilAsync(async () => await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'available'") < Chunk, "the available jobs to drop below a chunk");
                var chunk = Math.Min(Chunk, count - enqueued);
                await scenario.EnqueueAsync(batch.GetRange(enqueued, chunk));
                enqueued += chunk;
            }
        }

        await EnqueueUntilAsync(Jobs * 3 / 10);
        var victim = nodes[0];
        var leader = await scenario.CountAsync($"SELECT count(*) FROM {scenario.Schema}.leases WHERE name = 'leader' AND holder = '{victim.NodeId}' AND expires_at > now()") == 1;
        await scenario.KillAsync(victim);
        await EnqueueUntilAsync(Jobs);
        await scenario.UntilAllTerminalAsync(TimeSpan.FromMinutes(3));

        Assert.Equal((long)Jobs, await scenario.CountAsync("SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded'"));
        var orphans = await scenario.CountAsync($"SELECT count(*) FROM {scenario.Schema}.job_attempts WHERE node = '{victim.NodeId}' AND outcome = 'lease_expired'");

        // Its running jobs, and those whose outcome it had yet to store: a node holds a lease until the outcome is stored.
        Assert.True(orphans >= 1, "the killed node held leases that had to be rescued");

        // Only the jobs the killed node held ran again, once each, and their attempts were counted.
        var otherReruns = await scenario.CountAsync($"""
            SELECT count(*) FROM (SELECT job_id FROM {scenario.Schema}_ledger GROUP BY job_id HAVING count(*) > 1) AS rerun
            WHERE NOT EXISTS (SELECT 1 FROM {scenario.Schema}.job_attempts a WHERE a.job_id = rerun.job_id AND a.node = '{victim.NodeId}' AND a.outcome = 'lease_expired')
            """);
        Assert.True(otherReruns == 0, $"{otherReruns} jobs the killed node did not hold ran again; their earlier attempts ended: {await AttemptsAsync(scenario, victim)}.\n{scenario.NodeOutput()}");
        Assert.Equal(0L, await scenario.CountAsync($"""
            SELECT count(*) FROM {scenario.Schema}_ledger l
            WHERE l.node = '{victim.NodeId}' AND l.ended_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM {scenario.Schema}.job_attempts a WHERE a.job_id = l.job_id AND a.node = '{victim.NodeId}' AND a.outcome = 'lease_expired')
            """));
        Assert.Equal(orphans, await scenario.CountAsync($"""
            SELECT count(*) FROM {scenario.Schema}.jobs j JOIN {scenario.Schema}.job_attempts a ON a.job_id = j.id
            WHERE a.node = '{victim.NodeId}' AND a.outcome = 'lease_expired' AND a.attempt = 1 AND j.attempt = 2 AND j.failures = 1
              AND j.lease_owner <> '{victim.NodeId}'
              AND (SELECT count(*) FROM {scenario.Schema}_ledger l WHERE l.job_id = j.id AND l.attempt = 2 AND l.outcome = 'returned') = 1
            """));

        // Each orphan's lease ran out at most a lease after the kill (its last claim or renewal came before it); the
        // leader's rescuer, passing every RescueInterval, failed the attempt within the interval after that. When the
        // victim led, nobody rescued until another node took the leadership, which it does at its first renewal after
        // the leader's lease ran out, so up to LeaseRenewInterval later. Each step is a round trip, and on a loaded
        // machine a tick runs late: Allowance covers both. The rescue is a failure, so the retry waits the job's first
        // backoff (1 s ± 20 % by default), and a node claims it at its next claim, at the latest a PollInterval after
        // it is due.
        var rescueBound = lease + rescue + (leader ? renew : TimeSpan.Zero) + Allowance;
        var rerunBound = rescueBound + RetryBackoff.Default.InitialDelay * (1 + RetryBackoff.Default.Jitter) + poll;
        var latestRescue = TimeSpan.FromMilliseconds(await scenario.CountAsync($"""
            SELECT (extract(epoch FROM max(a.finished_at) - min(f.started_at)) * 1000)::bigint
            FROM {scenario.Schema}.job_attempts a, {scenario.Schema}_faults f
            WHERE a.node = '{victim.NodeId}' AND a.outcome = 'lease_expired' AND f.kind = 'sigkill'
            """));
        var latestRerun = TimeSpan.FromMilliseconds(await scenario.CountAsync($"""
            SELECT (extract(epoch FROM max(l.started_at) - min(f.started_at)) * 1000)::bigint
            FROM {scenario.Schema}_ledger l JOIN {scenario.Schema}.job_attempts a ON a.job_id = l.job_id AND a.node = '{victim.NodeId}' AND a.outcome = 'lease_expired',
                 {scenario.Schema}_faults f
            WHERE l.attempt = 2 AND f.kind = 'sigkill'
            """));
        Assert.True(latestRescue <= rescueBound, $"The last of {orphans} orphans was rescued {latestRescue.TotalSeconds:F3} s after the kill, past lease + rescue interval{(leader ? " + renew interval (the victim led)" : "")} + {Allowance.TotalSeconds} s = {rescueBound.TotalSeconds:F3} s.");
        Assert.True(latestRerun <= rerunBound, $"The last of {orphans} orphans re-ran {latestRerun.TotalSeconds:F3} s after the kill, past {rerunBound.TotalSeconds:F3} s.");
        output.WriteLine($"Scenario 1: {orphans} orphans (victim led: {leader}); last rescued {latestRescue.TotalSeconds:F3} s and last re-run {latestRerun.TotalSeconds:F3} s after the kill (bounds {rescueBound.TotalSeconds:F1} s and {rerunBound.TotalSeconds:F1} s).");
        await scenario.CheckAsync();
    }

    // How the attempts of jobs that ran more than once ended, by node and outcome, other than the victim's rescues.
    private static async Task<string> AttemptsAsync(Scenario scenario, NodeProcess victim)
    {
        var found = new List<string>();
        await using var command = scenario.DataSource.CreateCommand($"""
            SELECT node, outcome, count(*) FROM {scenario.Schema}.job_attempts
            WHERE NOT (node = '{victim.NodeId}' AND outcome = 'lease_expired') GROUP BY node, outcome ORDER BY node, outcome
            """);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            found.Add($"{reader.GetString(0)} {reader.GetString(1)} × {reader.GetInt64(2)}");
        }

        return string.Join(", ", found);
    }
}
