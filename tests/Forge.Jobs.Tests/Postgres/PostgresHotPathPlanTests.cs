using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>Plans of the hot-path statements on a table shaped like a day of production: 200,000 succeeded jobs kept for
/// retention, 100,000 high-priority jobs scheduled for tomorrow, and 1,000 due jobs in each of two queues. Each test runs
/// EXPLAIN ANALYZE of the store's own SQL, bound as the store binds it, in a transaction that is rolled back.</summary>
public sealed class PostgresHotPathPlanTests(PostgresDatabase database) : PostgresStoreFixture(database)
{
    // claim.sql joins the UPDATE to the "picked" CTE. The planner estimates picked at 10% of an average queue's due rows
    // (LIMIT limits.n is not a constant), so it joins with a hash or merge join that reads the whole jobs table, finished
    // jobs included, on every claim (about 100 ms here for 10 jobs). "WHERE j.id = ANY (ARRAY(SELECT id FROM picked))"
    // reads only the picked rows.
    [Fact]
    public async Task Claim_ReadsOnlyAboutAsManyJobRowsAsItClaims()
    {
        var schema = await PopulateAsync("plan_claim");

        var plan = await ExplainAsync(schema, "Sql/claim", NodeA, new[] { "emails" }, new[] { 10 }, 60_000L, Array.Empty<string>(), (long)JobDefaults.MaxClaimBytes, true);

        var rowsRead = Nodes(plan)
            .Where(n => n.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "jobs")
            .Sum(n => Number(n, "Actual Rows") * Number(n, "Actual Loops"));
        Assert.True(rowsRead < 1_000, $"A claim of 10 jobs read {rowsRead} rows of jobs.");
    }

    // jobs_claim orders by (queue, priority DESC, run_at, id). Were it to hold scheduled and retrying jobs too, a claim in a
    // queue with many future jobs of a higher priority would walk all of their index entries before the first due job.
    [Fact]
    public async Task Claim_DoesNotWalkFutureJobsOfAHigherPriority()
    {
        var schema = await PopulateAsync("plan_future");

        var plan = await ExplainAsync(schema, "Sql/claim", NodeA, new[] { "default" }, new[] { 10 }, 60_000L, Array.Empty<string>(), (long)JobDefaults.MaxClaimBytes, true);

        var blocks = Nodes(plan)
            .Where(n => n.TryGetProperty("Index Name", out var index) && index.GetString() == "jobs_claim")
            .Sum(n => Number(n, "Shared Hit Blocks") + Number(n, "Shared Read Blocks"));
        Assert.True(blocks < 50, $"A claim of 10 due jobs read {blocks} blocks of jobs_claim.");
    }

    // stage.sql finds due scheduled and retrying jobs through jobs_due (queue, run_at), so the 100,000 jobs scheduled for
    // tomorrow cost it one index descent, not a walk.
    [Fact]
    public async Task Stage_DoesNotWalkFutureJobs()
    {
        var schema = await PopulateAsync("plan_stage");

        var plan = await ExplainAsync(schema, "Sql/stage", new[] { "default" }, new[] { 10 });

        var blocks = Nodes(plan)
            .Where(n => n.TryGetProperty("Index Name", out var index) && index.GetString() == "jobs_due")
            .Sum(n => Number(n, "Shared Hit Blocks") + Number(n, "Shared Read Blocks"));
        Assert.True(blocks < 50, $"Staging a queue with no due job read {blocks} blocks of jobs_due.");
    }

    // complete.sql writes history from "decided JOIN updated". Both are CTEs the planner knows nothing about, so it joins them
    // with a nested loop: a batch of n outcomes compares n * n rows (a million for the completer's largest batch of 1,000, most
    // of the statement's time). Returning the history columns from the UPDATE removes the join.
    [Fact]
    public async Task Complete_WritesHistoryInTimeLinearInTheBatch()
    {
        var schema = await PopulateAsync("plan_complete");
        var store = await StoreAsync(schema);
        var claimed = await ClaimAsync(store, 1_000, TimeSpan.FromHours(1), "emails");
        Assert.Equal(1_000, claimed.Count);
        var n = claimed.Count;

        var plan = await ExplainAsync(
            schema,
            "Sql/complete",
            claimed.Select(j => j.Id.Value).ToArray(),
            Enumerable.Repeat(NodeA, n).ToArray(),
            claimed.Select(j => j.Attempt).ToArray(),
            Enumerable.Repeat("s", n).ToArray(),
            PostgresJobStore.Jsonb(new string?[n]),
            new string?[n],
            new long[n],
            new bool[n],
            PostgresJobStore.Jsonb(null),
            $"{schema}.jobs");

        var compared = Nodes(plan).Sum(node => Number(node, "Rows Removed by Join Filter"));
        Assert.True(compared < 10 * n, $"Storing {n} outcomes discarded {compared} joined rows.");
    }

    private async Task<string> PopulateAsync(string prefix)
    {
        var schema = NewSchema(prefix);
        await StoreAsync(schema);
        await DataSource.ExecuteAsync($$"""
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at, finished_at)
            SELECT 't', 'default', 'succeeded', 5, 3, 300000, '{}', now() - interval '1 hour', now() - interval '30 minutes'
            FROM generate_series(1, 200000);
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at)
            SELECT 't', 'default', 'scheduled', 7, 3, 300000, '{}', now() + interval '1 day' + g * interval '1 second'
            FROM generate_series(1, 100000) AS g;
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at)
            SELECT 't', q, 'available', 5, 3, 300000, '{}', now() - interval '1 minute'
            FROM generate_series(1, 1000), unnest(ARRAY['default', 'emails']) AS q;
            """);
        await DataSource.ExecuteAsync($"VACUUM ANALYZE {schema}.jobs");
        return schema;
    }
}
