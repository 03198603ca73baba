using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>Large payloads on the PostgreSQL store: refused whole at enqueue when over the limit, weighed by their
/// stored size when claimed, and processed in claims bounded in bytes.</summary>
public sealed class PostgresLargePayloadTests(PostgresDatabase database) : PostgresStoreFixture(database)
{
    private const int Jobs = 200;
    private const int DataLength = 1_000_000;

    // 200 jobs of about 1 MB through one node with the default limits (reliability scenario 9 runs 1,000; here that took
    // 35 to 50 s, most of it enqueueing, so this test runs a fifth of it). A queue of 32 slots would claim 32 jobs (32 MB)
    // at once; the 16 MiB budget holds each claim to 16, and the fetcher claims the rest at once.
    [Fact]
    public async Task Engine_TwoHundredJobsOfAMegabyte_AreAllProcessed_InClaimsBoundedInBytes()
    {
        var store = new WatchedStore(await StoreAsync(NewSchema("megabytes")));
        var processed = new Processed(Jobs);
        await using var node = await TestNode.StartAsync(
            store,
            f => f.AddQueue("default", q => q.Concurrency = 32).AddHandler<MegabyteHandler, Megabyte>(),
            services: s => s.AddSingleton(processed));
        var data = new string('x', DataLength);

        foreach (var chunk in Enumerable.Range(0, Jobs).Chunk(25))
        {
            await node.Client.EnqueueManyAsync(chunk.Select(n => new Megabyte(n, data)));
        }

        await processed.All.Task.WaitAsync(TimeSpan.FromMinutes(5));
        await store.UntilAsync(() => Task.FromResult(store.Completed >= Jobs), "200 outcomes to be stored");

        var queue = Assert.Single(await node.Client.ListQueuesAsync(), q => q.Name == "default");
        Assert.Equal(Jobs, queue.Counts.GetValueOrDefault(JobState.Succeeded));
        Assert.Equal(0, processed.WrongSize);
        Assert.InRange(store.MostClaimedAtOnce, 1, JobDefaults.MaxClaimBytes / (DataLength + 20));
        Assert.True(store.CutClaims > 0, "No claim was cut short by the byte budget.");
    }

    [Fact]
    public async Task EnqueueMany_InATransaction_OneJobOverTheLimit_StoresNothing_AndLeavesTheTransactionUsable()
    {
        var schema = NewSchema("oversize");
        var store = await StoreAsync(schema);
        var client = new JobClient(store, new JobTypeRegistry(Options.Create(new ForgeJobsOptions())));
        var tooLarge = new string('x', JobDefaults.MaxPayloadBytes);
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.EnqueueManyAsync([new Megabyte(1, "small"), new Megabyte(2, tooLarge)], null, transaction));
        await client.EnqueueAsync(new Megabyte(3, "small"), null, transaction);
        await transaction.CommitAsync();

        Assert.Contains("The payload of job type 'megabyte' is 1,048,593 bytes, over ForgeJobsOptions.MaxPayloadBytes (1,048,576)", error.Message, StringComparison.Ordinal);
        var stored = Assert.Single(await store.ListAsync(new JobQuery(), default));
        Assert.Contains("\"n\": 3", stored.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Insert_StoresThePayloadSizeTheClientCounted()
    {
        var schema = NewSchema("sizes");
        var store = await StoreAsync(schema);
        var payload = """{"name":"Zoë","emoji":"🚀"}""";

        var id = (await store.InsertManyAsync([TestJobs.New(payload: payload)], default))[0].Id;

        var stored = await DataSource.ScalarAsync<int>($"SELECT payload_bytes FROM {schema}.jobs WHERE id = {id.Value}");
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(payload), stored);
    }

    // Rows stored before migration 9 (or by hand) have no stored size; the claim weighs them by their jsonb text.
    [Fact]
    public async Task Claim_RowsWithoutAStoredSize_AreWeighedByTheirText()
    {
        var schema = NewSchema("legacy");
        var store = await StoreAsync(schema);
        await DataSource.ExecuteAsync($$"""
            INSERT INTO {{schema}}.jobs (type, queue, state, priority, max_retries, timeout_ms, payload, run_at)
            SELECT 't', 'default', 'available', 5, 3, 300000, jsonb_build_object('d', repeat('x', 1000)), now() - interval '1 minute'
            FROM generate_series(1, 3);
            """);

        var claimed = await store.ClaimAsync(new ClaimRequest(NodeA, TimeSpan.FromHours(1), [new QueueLimit("default", 10)], MaxBytes: 2_500), default);

        Assert.Equal(2, claimed.Count);
        Assert.Equal(["default"], claimed.Cut);
    }

    [JobType("megabyte")]
    internal sealed record Megabyte(int N, string Data);

    internal sealed class Processed(int expected)
    {
        private int _count;
        private int _wrongSize;

        public TaskCompletionSource All { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int WrongSize => Volatile.Read(ref _wrongSize);

        public void Handled(Megabyte job)
        {
            if (job.Data.Length != DataLength)
            {
                Interlocked.Increment(ref _wrongSize);
            }

            if (Interlocked.Increment(ref _count) == expected)
            {
                All.TrySetResult();
            }
        }
    }

    internal sealed class MegabyteHandler(Processed processed) : IJobHandler<Megabyte>
    {
        public Task HandleAsync(Megabyte job, JobContext context, CancellationToken cancellationToken)
        {
            processed.Handled(job);
            return Task.CompletedTask;
        }
    }
}
