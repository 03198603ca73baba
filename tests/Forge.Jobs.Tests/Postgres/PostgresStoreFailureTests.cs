using System.Diagnostics;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Npgsql;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>The PostgreSQL store under concurrency and failure (each once a defect found in review). Each test states the behaviour the
/// contract (IJobStore, the docs, or the in-memory reference store) promises; a failing test is a defect.</summary>
public sealed class PostgresStoreFailureTests(PostgresDatabase database) : PostgresStoreFixture(database)
{
    // A handler's exception message may contain a NUL character (binary input, native errors). PostgreSQL text cannot hold
    // one, so the whole completion batch (up to 1,000 outcomes of unrelated jobs) fails; the completer retries it until it
    // gives up and drops it, and the rescuer then re-runs every job of the batch, succeeded ones included.
    [Fact]
    public async Task Complete_OneErrorWithANulCharacter_DoesNotLoseTheOtherOutcomesOfTheBatch()
    {
        var store = await StoreAsync(NewSchema("nul_error"));
        await store.InsertManyAsync([TestJobs.New(), TestJobs.New()], default);
        var claimed = await ClaimAsync(store, 2, TimeSpan.FromHours(1));
        var poisoned = new Completion(claimed[1].Id, NodeA, 1, CompletionOutcome.Retry, Error: "System.IO.InvalidDataException: bad header 'PK\0\0'", RetryDelay: TimeSpan.Zero);

        var error = await Record.ExceptionAsync(() => store.CompleteManyAsync([Succeeded(claimed[0]), poisoned], default));

        Assert.Null(error);
        Assert.Equal(JobState.Succeeded, (await store.GetAsync(claimed[0].Id, default))!.State);
    }

    // Same with a handler result: System.Text.Json writes a NUL in a string as \u0000, which jsonb rejects.
    [Fact]
    public async Task Complete_OneResultWithAnEscapedNul_DoesNotLoseTheOtherOutcomesOfTheBatch()
    {
        var store = await StoreAsync(NewSchema("nul_result"));
        await store.InsertManyAsync([TestJobs.New(), TestJobs.New()], default);
        var claimed = await ClaimAsync(store, 2, TimeSpan.FromHours(1));
        var result = System.Text.Json.JsonSerializer.Serialize("a\0b");

        var error = await Record.ExceptionAsync(() => store.CompleteManyAsync([Succeeded(claimed[0]), Succeeded(claimed[1], result)], default));

        Assert.Null(error);
        Assert.Equal(JobState.Succeeded, (await store.GetAsync(claimed[0].Id, default))!.State);
    }

    // Same with a handler's log line: its message or exception may hold a NUL or half of a surrogate pair (the bound cuts
    // lines too); each becomes U+FFFD instead of failing the batch.
    [Fact]
    public async Task Complete_OneLogLineWithANulAndALoneSurrogate_StoresItCleanedAndKeepsTheOtherOutcomes()
    {
        var store = await StoreAsync(NewSchema("nul_log"));
        await store.InsertManyAsync([TestJobs.New(), TestJobs.New()], default);
        var claimed = await ClaimAsync(store, 2, TimeSpan.FromHours(1));
        JobLogLine[] lines = [new(DateTimeOffset.UtcNow, Microsoft.Extensions.Logging.LogLevel.Error, "bad header 'PK\0\0'", "cut \uD83D")];
        var poisoned = new Completion(claimed[1].Id, NodeA, 1, CompletionOutcome.Dead, Error: "boom", Logs: lines);

        var error = await Record.ExceptionAsync(() => store.CompleteManyAsync([Succeeded(claimed[0]), poisoned], default));

        Assert.Null(error);
        Assert.Equal(JobState.Succeeded, (await store.GetAsync(claimed[0].Id, default))!.State);
        var stored = Assert.Single(Assert.Single(await store.GetAttemptsAsync(claimed[1].Id, default)).Logs);
        Assert.Equal(("bad header 'PK\uFFFD\uFFFD'", "cut \uFFFD"), (stored.Message, stored.Exception));
    }

    // Npgsql encodes text strictly, so an error that holds a lone surrogate fails the batch before it is even sent. RetryPolicy
    // makes one itself when it cuts an error at 16,384 characters between the two halves of a surrogate pair (an emoji).
    [Fact]
    public async Task Complete_OneErrorCutInsideASurrogatePair_DoesNotLoseTheOtherOutcomesOfTheBatch()
    {
        var store = await StoreAsync(NewSchema("surrogate"));
        await store.InsertManyAsync([TestJobs.New(), TestJobs.New()], default);
        var claimed = await ClaimAsync(store, 2, TimeSpan.FromHours(1));
        var cut = (new string('x', Forge.Jobs.Retry.RetryPolicy.MaxErrorLength - 1) + "\U0001F525 failed")[..Forge.Jobs.Retry.RetryPolicy.MaxErrorLength];
        var poisoned = new Completion(claimed[1].Id, NodeA, 1, CompletionOutcome.Dead, Error: cut);

        var error = await Record.ExceptionAsync(() => store.CompleteManyAsync([Succeeded(claimed[0]), poisoned], default));

        Assert.Null(error);
        Assert.Equal(JobState.Succeeded, (await store.GetAsync(claimed[0].Id, default))!.State);
    }

    // The NOTIFY channel is "<schema>.jobs". When the validator accepted 63-character schema names (64cb48a), from 59
    // characters on the channel passed NAMEDATALEN, pg_notify failed with "channel name too long", and so did every enqueue
    // of a due job (and cancel of a running job, retry, resume). Fixed by 7ab94a3 (58 characters at most); a regression test.
    [Fact]
    public async Task Insert_WithTheLongestValidSchemaName_Works()
    {
        var schema = Enumerable.Range(1, 100).Select(n => new string('s', n)).Last(PostgresSchema.IsValid);
        var store = await StoreAsync(schema);

        var error = await Record.ExceptionAsync(() => store.InsertManyAsync([TestJobs.New()], default));

        Assert.Null(error);
    }

    // QueueOptions.MaxLength: "nothing was stored" when the queue would pass its bound. The check counts the waiting jobs
    // under the statement's snapshot and takes no lock, so two enqueuers that overlap both see room and both insert.
    [Fact]
    public async Task BoundedQueue_TwoEnqueuersAtOnce_NeverPassMaxLength()
    {
        var schema = NewSchema("bounded");
        var store = await StoreAsync(schema);
        await using (var connection = await DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await store.InsertManyAsync([TestJobs.New(queue: "bounded", maxLength: 1)], transaction, default);
            var other = store.InsertManyAsync([TestJobs.New(queue: "bounded", maxLength: 1)], default);
            await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(1)));
            await transaction.CommitAsync();
            await Record.ExceptionAsync(() => other);
        }

        Assert.Equal(1L, await DataSource.ScalarAsync<long>($"SELECT count(*) FROM {schema}.jobs WHERE queue = 'bounded'"));
    }

    // A handler that completes inside its own transaction (context.CompleteAsync(transaction)) holds its job's row lock
    // until it commits. extend_leases.sql renews all of a node's leases in one UPDATE that waits for that lock, so no lease
    // of the node is renewed until the handler commits; past the command timeout the renewal fails and the other jobs'
    // leases run out and are rescued while they still run.
    [Fact]
    public async Task ExtendLeases_OneJobLockedByAHandlersOpenTransaction_StillRenewsTheNodesOtherLeases()
    {
        var store = await StoreAsync(NewSchema("renew_blocked"), commandTimeout: TimeSpan.FromSeconds(3));
        await store.InsertManyAsync([TestJobs.New(), TestJobs.New()], default);
        var claimed = await ClaimAsync(store, 2, TimeSpan.FromHours(1));
        var (completing, other) = (claimed[0], claimed[1]);
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        Assert.Empty(await store.CompleteManyAsync([Succeeded(completing)], transaction, default));

        var watch = Stopwatch.StartNew();
        LeaseRenewal? renewal = null;
        var error = await Record.ExceptionAsync(async () =>
            renewal = await store.ExtendLeasesAsync(NodeA, [new LeaseRef(other.Id, 1), new LeaseRef(completing.Id, 1)], TimeSpan.FromMinutes(5), default));
        watch.Stop();
        await transaction.RollbackAsync();

        Assert.Null(error);
        Assert.DoesNotContain(other.Id, renewal!.Lost);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"The renewal waited {watch.Elapsed} for another job's row lock.");
    }

    // The rescuer's completion locks every expired job with FOR UPDATE (no SKIP LOCKED): one expired job whose handler is
    // committing its own completion stalls the rescue of all the others until the command times out, every interval.
    [Fact]
    public async Task Rescue_OneExpiredJobLockedByAHandlersOpenTransaction_StillRescuesTheOthers()
    {
        var store = await StoreAsync(NewSchema("rescue_blocked"), commandTimeout: TimeSpan.FromSeconds(3));
        await store.InsertManyAsync([TestJobs.New(), TestJobs.New()], default);
        var claimed = await ClaimAsync(store, 2, TimeSpan.Zero);
        var (completing, other) = (claimed[0], claimed[1]);
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        Assert.Empty(await store.CompleteManyAsync([Succeeded(completing)], transaction, default));
        var expired = await store.ListExpiredLeasesAsync(10, default);
        Assert.Equal(2, expired.Count);

        var rescues = expired.Select(l => new Completion(l.Id, l.LeaseOwner, l.Attempt, CompletionOutcome.Retry, Error: "expired", Rescue: true)).ToList();
        var error = await Record.ExceptionAsync(() => store.CompleteManyAsync(rescues, default));
        await transaction.RollbackAsync();

        Assert.Null(error);
        Assert.Equal(JobState.Available, (await store.GetAsync(other.Id, default))!.State);
    }

    // complete.sql and extend_leases.sql lock rows in the order of their input arrays. The completer (outcomes in the order
    // they finished) and the lease keeper (leases in dictionary order) of one busy node lock the same rows at the same time
    // in different orders, so PostgreSQL aborts one of them with a deadlock.
    [Fact]
    public async Task CompleteAndExtendLeases_AtTheSameTime_DoNotDeadlock()
    {
        var schema = NewSchema("deadlock");
        var store = await StoreAsync(schema);
        PostgresException? deadlock = null;
        for (var round = 0; round < 20 && deadlock is null; round++)
        {
            await store.InsertManyAsync(Enumerable.Range(0, 400).Select(_ => TestJobs.New()).ToList(), default);
            var claimed = await ClaimAsync(store, 400, TimeSpan.FromHours(1));
            var completions = claimed.Reverse().Select(job => Succeeded(job)).ToList();
            var leases = claimed.Select(job => new LeaseRef(job.Id, job.Attempt)).ToList();
            using var start = new ManualResetEventSlim();
            var complete = Task.Run(async () => { start.Wait(); await store.CompleteManyAsync(completions, default); });
            var extend = Task.Run(async () => { start.Wait(); await store.ExtendLeasesAsync(NodeA, leases, TimeSpan.FromHours(1), default); });
            start.Set();
            foreach (var task in new[] { complete, extend })
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

            await DataSource.ExecuteAsync($"UPDATE {schema}.jobs SET state = 'succeeded', lease_owner = NULL WHERE state = 'running'");
        }

        Assert.Null(deadlock);
    }

    // context.CompleteAsync(transaction) locks the job row FOR UPDATE inside the handler's transaction. The lease keeper
    // rewrites that row (lease_until) every LeaseRenewInterval, so a handler whose transaction is REPEATABLE READ or
    // SERIALIZABLE and whose snapshot predates the last renewal fails with 40001, however its own work went: its side
    // effects roll back and the attempt counts as failed.
    [Fact]
    public async Task CompleteInTransaction_RepeatableReadTransaction_IsRefusedWithAClearMessage()
    {
        var store = await StoreAsync(NewSchema("rr_complete"));
        await store.InsertManyAsync([TestJobs.New()], default);
        var claimed = Assert.Single(await ClaimAsync(store, 1, TimeSpan.FromMinutes(1)));
        await using var connection = await DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        await using (var work = new NpgsqlCommand("SELECT 1", connection, transaction))
        {
            await work.ExecuteScalarAsync();
        }

        await store.ExtendLeasesAsync(NodeA, [new LeaseRef(claimed.Id, claimed.Attempt)], TimeSpan.FromMinutes(1), default);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CompleteManyAsync([Succeeded(claimed)], transaction, default));

        Assert.Contains("needs READ COMMITTED; this transaction is RepeatableRead", error.Message, StringComparison.Ordinal);
    }

    // Graceful shutdown hands running jobs back "so another node picks them up at once". The in-memory store hints the
    // queue when a completion makes a job available; complete.sql sent no NOTIFY (64cb48a), so idle nodes waited for their
    // next poll. Fixed by 7ab94a3; a regression test.
    [Fact]
    public async Task Complete_Released_HintsTheQueueToOtherNodes()
    {
        var schema = NewSchema("released");
        var node = await StoreAsync(schema);
        var other = await StoreAsync(schema);
        var listener = new HintListener();
        using var subscription = await other.SubscribeAsync(listener, default);
        var inserted = listener.Next();
        await node.InsertManyAsync([TestJobs.New()], default);
        await Wait.For(inserted, "the hint of the insert");
        var claimed = Assert.Single(await ClaimAsync(node, 1, TimeSpan.FromHours(1)));
        var hint = listener.Next();

        Assert.Empty(await node.CompleteManyAsync([new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Released)], default));

        Assert.Same(hint, await Task.WhenAny(hint, Task.Delay(TimeSpan.FromSeconds(3))));
    }
}
