using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>insert.sql and InsertManyAsync under concurrency and misuse.</summary>
public sealed class PostgresInsertTests(PostgresDatabase database) : PostgresStoreFixture(database)
{
    private readonly PostgresDatabase _database = database;

    // insert.sql inserts in input order (ORDER BY ord), so two batches holding the same idempotency keys in different
    // orders each take one key's unique-index entry and wait for the other's: PostgreSQL aborts one with a deadlock. Nothing
    // in the engine sends such batches today (EnqueueManyAsync refuses keys), but IJobStore allows them, and a cron
    // scheduler that enqueues occurrences in batches from two overlapping leaders would.
    [Fact]
    public async Task Insert_TwoBatchesWithTheSameKeysInAnotherOrder_DoNotDeadlock()
    {
        var store = await StoreAsync(NewSchema("key_order"));
        PostgresException? deadlock = null;
        for (var round = 0; round < 20 && deadlock is null; round++)
        {
            var keys = Enumerable.Range(0, 300).Select(i => $"r{round}-k{i}").ToList();
            using var start = new ManualResetEventSlim();
            var forward = Task.Run(async () => { start.Wait(); await store.InsertManyAsync(keys.Select(k => TestJobs.New(idempotencyKey: k)).ToList(), default); });
            var backward = Task.Run(async () => { start.Wait(); await store.InsertManyAsync(keys.AsEnumerable().Reverse().Select(k => TestJobs.New(idempotencyKey: k)).ToList(), default); });
            start.Set();
            foreach (var task in new[] { forward, backward })
            {
                try
                {
                    await task;
                }
                catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.DeadlockDetected)
                {
                    deadlock = exception;
                }
            }
        }

        Assert.Null(deadlock);
    }
}
