using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>Queue control on PostgreSQL: global limits kept by nodes that had not heard of them, priority order and
/// global limits with real nodes, and the plans of the statements that serve them.</summary>
public sealed class PostgresQueueControlTests(PostgresDatabase database) : PostgresStoreFixture(database)
{
    private const string NodeB = "node-b";
    private readonly PostgresDatabase _database = database;

    [Fact]
    public async Task GlobalLimit_SetThroughAnotherNode_IsKeptByANodeThatHadNotHeardOfIt()
    {
        var schema = NewSchema("limit_unheard");
        var setter = await StoreAsync(schema);
        var unaware = await StoreAsync(schema);
        await setter.InsertManyAsync([.. Enumerable.Range(0, 10).Select(_ => TestJobs.New())], default);
        await setter.SetQueueGlobalLimitAsync("default", 3, default);

        var first = await unaware.ClaimAsync(new ClaimRequest(NodeB, TimeSpan.FromHours(1), [new QueueLimit("default", 5)]), default);
        var second = await ClaimAsync(setter, 5, TimeSpan.FromHours(1));

        Assert.Equal((3, 0), (first.Count, second.Count));
    }

    [Fact]
    public async Task GlobalLimit_ManyNodesThatHadNotHeardOfIt_ClaimingAtOnce_TakeExactlyTheLimit()
    {
        var schema = NewSchema("limit_race");
        var setter = await StoreAsync(schema);
        await setter.InsertManyAsync([.. Enumerable.Range(0, 100).Select(_ => TestJobs.New())], default);
        await setter.SetQueueGlobalLimitAsync("default", 4, default);
        var nodes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => StoreAsync(schema)));

        var claims = await Task.WhenAll(nodes.Select((store, i) => Task.Run(() =>
            store.ClaimAsync(new ClaimRequest($"node-{i}", TimeSpan.FromHours(1), [new QueueLimit("default", 3)]), default))));
        var again = await Task.WhenAll(nodes.Select((store, i) => Task.Run(() =>
            store.ClaimAsync(new ClaimRequest($"node-{i}", TimeSpan.FromHours(1), [new QueueLimit("default", 3)]), default))));

        Assert.Equal(4, claims.Sum(c => c.Count));
        Assert.Equal(0, again.Sum(c => c.Count));
        Assert.Equal(4L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs WHERE state = 'running'"));
    }

    [Fact]
    public async Task Node_OneExecutor_RunsJobsByPriority_ThenInInsertionOrder()
    {
        var order = new StartOrder();
        int[] priorities = [5, 1, 9, 5, JobPriority.High, JobPriority.Min, JobPriority.Critical, 7, 5, JobPriority.Low, 3];
        order.Expect(priorities.Length);
        await using var node = await TestNode.StartPostgresAsync(
            _database.ConnectionString,
            NewSchema("priority_node"),
            f => f.AddQueue("default", q => q.Concurrency = 1).AddHandler<OrderedHandler, Ordered>(),
            s => s.AddSingleton(order));
        await node.Client.PauseQueueAsync("default");
        for (var n = 0; n < priorities.Length; n++)
        {
            await node.Client.EnqueueAsync(new Ordered(n), new JobOptions { Priority = priorities[n] });
        }

        await node.Client.ResumeQueueAsync("default");
        await Wait.For(order.AllStarted.Task, "every job to start");

        Assert.Equal(Enumerable.Range(0, priorities.Length).OrderByDescending(n => priorities[n]).ThenBy(n => n), order.Started);
    }

    [Fact]
    public async Task TwoNodes_GlobalLimitOfTwo_NeverRunMoreAtOnce_AndFinishEveryJob()
    {
        var schema = NewSchema("limit_nodes");
        var recorder = new Recorder { Limit = 2 };
        recorder.Expect(10);
        void Configure(ForgeJobsBuilder forge) => forge
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(100))
            .AddQueue("default", q => q.Concurrency = 5)
            .AddHandler<CountedHandler, Counted>();
        var storeA = new WatchedStore(await StoreAsync(schema));
        var storeB = new WatchedStore(await StoreAsync(schema));
        await using var nodeA = await TestNode.StartAsync(storeA, Configure, TimeProvider.System, s => s.AddSingleton(recorder));
        await using var nodeB = await TestNode.StartAsync(storeB, Configure, TimeProvider.System, s => s.AddSingleton(recorder));
        await nodeA.Client.SetQueueGlobalLimitAsync("default", 2);

        await nodeB.Client.EnqueueManyAsync(Enumerable.Range(0, 10).Select(n => new Counted(n)));
        await Wait.For(recorder.Full.Task, "two jobs to run at once");
        var (claimsA, claimsB) = (storeA.Claims, storeB.Claims);
        await storeA.UntilAsync(() => Task.FromResult(storeA.Claims > claimsA + 2 && storeB.Claims > claimsB + 2), "both nodes to claim again while at the limit");
        var runningAtTheLimit = await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs WHERE state = 'running'");
        recorder.Gate.SetResult();
        await Wait.For(recorder.AllRan.Task, "every job to run");
        await storeA.UntilAsync(async () => await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs WHERE state = 'succeeded'") == 10, "every job to succeed");

        Assert.Equal(2L, runningAtTheLimit);
        Assert.Equal(2, recorder.MaxConcurrent);
    }

    // A claim that leaves a queue short looks up when its next scheduled or retrying job is due: one entry of jobs_due,
    // however many jobs wait. A claim that fills every queue does not look at all.
    [Fact]
    public async Task Claim_NextDueLookup_ReadsOneIndexEntry_AndOnlyWhenAQueueCameBackShort()
    {
        var schema = await PopulateAsync("plan_next_due");

        var filled = await ExplainAsync(schema, "Sql/claim", NodeA, new[] { "emails" }, new[] { 10 }, 60_000L, Array.Empty<string>(), (long)JobDefaults.MaxClaimBytes, true);
        var leftShort = await ExplainAsync(schema, "Sql/claim", NodeA, new[] { "emails" }, new[] { 2_000 }, 60_000L, Array.Empty<string>(), (long)JobDefaults.MaxClaimBytes, true);

        Assert.Equal(0, Lookups(filled, "jobs_due").Loops);
        var (loops, rows, blocks) = Lookups(leftShort, "jobs_due");
        Assert.Equal((1, 1), (loops, rows));
        Assert.True(blocks < 10, $"The next-due lookup read {blocks} blocks of jobs_due.");
        Assert.DoesNotContain(Nodes(leftShort), n => n.GetProperty("Node Type").GetString() == "Seq Scan");
    }

    // A claim of a queue with a global limit counts that queue's running jobs through jobs_running (queue, lease_until),
    // not every running job of the cluster.
    [Fact]
    public async Task Claim_OfALimitedQueue_CountsOnlyThatQueuesRunningJobs()
    {
        var schema = await PopulateAsync("plan_limited");

        var plan = await ExplainAsync(schema, "Sql/claim", NodeA, new[] { "limited" }, new[] { 10 }, 60_000L, new[] { "limited" }, (long)JobDefaults.MaxClaimBytes, true);

        var (loops, rows, _) = Lookups(plan, "jobs_running");
        Assert.Equal(1, loops);
        Assert.True(rows <= 10, $"Counting the running jobs of one queue read {rows} entries of jobs_running.");
        Assert.DoesNotContain(Nodes(plan), n => n.GetProperty("Node Type").GetString() == "Seq Scan");
    }

    // The rescuer finds expired leases through jobs_running, which since migration 7 leads with the queue: it reads the
    // running jobs' index entries, never the finished jobs, and fetches only the expired rows.
    [Fact]
    public async Task ListExpired_ReadsOnlyExpiredRunningJobs()
    {
        var schema = await PopulateAsync("plan_expired");

        var plan = await ExplainAsync(schema, "Sql/list_expired", 500);

        var rowsRead = Nodes(plan)
            .Where(n => n.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "jobs")
            .Sum(n => Number(n, "Actual Rows") * Number(n, "Actual Loops"));
        Assert.Equal(50, rowsRead);
        Assert.DoesNotContain(Nodes(plan), n => n.GetProperty("Node Type").GetString() == "Seq Scan");
    }

    private static (int Loops, int Rows, int Blocks) Lookups(System.Text.Json.JsonElement plan, string index)
    {
        var nodes = Nodes(plan).Where(n => n.TryGetProperty("Index Name", out var name) && name.GetString() == index).ToList();
        Assert.NotEmpty(nodes);
        return (
            (int)nodes.Sum(n => Number(n, "Actual Loops")),
            (int)nodes.Sum(n => Number(n, "Actual Rows") * Number(n, "Actual Loops")),
            (int)nodes.Sum(n => Number(n, "Shared Hit Blocks") + Number(n, "Shared Read Blocks")));
    }

    /// <summary>A table shaped like a busy day: 100,000 succeeded jobs kept for retention, 20,000 jobs scheduled for
    /// tomorrow and 1,000 due in "emails", 5,000 jobs running in "busy" (50 of them with expired leases), and a queue
    /// "limited" with a global limit, 10 running jobs and 100 due.</summary>
    private async Task<string> PopulateAsync(string prefix)
    {
        var schema = NewSchema(prefix);
        await StoreAsync(schema);
        await DataSource.ExecuteAsync($$"""
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at, finished_at)
            SELECT 't', 'default', 'succeeded', 5, 3, 300000, '{}', now() - interval '1 hour', now() - interval '30 minutes'
            FROM generate_series(1, 100000);
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at)
            SELECT 't', 'emails', 'scheduled', 5, 3, 300000, '{}', now() + interval '1 day' + g * interval '1 second'
            FROM generate_series(1, 20000) AS g;
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at)
            SELECT 't', q, 'available', 5, 3, 300000, '{}', now() - interval '1 minute'
            FROM generate_series(1, 1000) AS g, unnest(ARRAY['emails', 'limited']) AS q
            WHERE q = 'emails' OR g <= 100;
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at, attempt, attempted_at, lease_owner, lease_until)
            SELECT 't', CASE WHEN g <= 10 THEN 'limited' ELSE 'busy' END, 'running', 5, 3, 300000, '{}', now() - interval '1 minute', 1, now(), 'n',
                   CASE WHEN g > 5010 THEN now() - interval '1 minute' ELSE now() + interval '1 hour' END
            FROM generate_series(1, 5060) AS g;
            INSERT INTO {{schema}}.queues (name, global_limit) VALUES ('limited', 50);
            """);
        await DataSource.ExecuteAsync($"VACUUM ANALYZE {schema}.jobs");
        return schema;
    }
}
