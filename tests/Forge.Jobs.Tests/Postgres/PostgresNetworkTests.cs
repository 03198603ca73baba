using Forge.Jobs.Diagnostics;
using System.Diagnostics;
using Forge.Jobs.Leadership;
using Forge.Jobs.Maintenance;
using Forge.Jobs.Retry;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>The LISTEN loop and the claim when the network path to PostgreSQL fails.</summary>
public sealed class PostgresNetworkTests(PostgresDatabase database) : PostgresStoreFixture(database)
{
    private readonly PostgresDatabase _database = database;

    // The LISTEN connection only ever reads (connection.WaitAsync without a timeout, no keepalive), so a path that dies
    // silently is never noticed: the notifier neither reconnects nor wakes the fetcher, and every node that lost its
    // path falls back to polling for good, while the docs promise that "the listening connection reconnects by itself".
    [Fact]
    public async Task Notifier_PathDiesSilently_ReconnectsAndHintsAgain()
    {
        var schema = NewSchema("half_open");
        var direct = await StoreAsync(schema);
        await using var proxy = Proxy(out var viaProxy);
        await using var notifier = new PostgresNotifier(viaProxy, ownsDataSource: true, NullLogger.Instance);
        var listener = new HintListener();
        using var subscription = await notifier.SubscribeAsync(direct.Channel, listener, default);
        var first = listener.Next();
        await direct.InsertManyAsync([TestJobs.New()], default);
        await Wait.For(first, "the first hint");

        proxy.FreezeExisting();
        var afterFreeze = listener.Next();
        await direct.InsertManyAsync([TestJobs.New()], default);

        var arrived = await Task.WhenAny(afterFreeze, Task.Delay(TimeSpan.FromSeconds(45)));
        Assert.True(arrived == afterFreeze, $"No hint for 45 s after the LISTEN path died; the notifier opened {proxy.Accepted - 1} new connections.");
    }

    // DisposeAsync cancels the loop's token; OpenConnectionAsync(token) must stop at once when the server does not answer.
    [Fact]
    public async Task Notifier_DisposedWhileTheServerDoesNotAnswer_StopsPromptly()
    {
        await using var proxy = Proxy(out var viaProxy);
        proxy.FreezeNewConnections = true;
        var notifier = new PostgresNotifier(viaProxy, ownsDataSource: true, NullLogger.Instance);
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Record.ExceptionAsync(() => notifier.SubscribeAsync("review.jobs", new HintListener(), giveUp.Token));

        var watch = Stopwatch.StartNew();
        await notifier.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"DisposeAsync took {watch.Elapsed}.");
    }

    // A claim commits, then its answer is lost (a dropped connection, a command timeout that fires as it commits). The node
    // saw no job, so nothing runs it and nothing renews its lease; left alone, the job would stay running under that node
    // until the lease lapses, and the rescuer would then count a failed attempt (lease_expired): a job with MaxRetries = 0
    // would be dead without ever having run. The node's fetcher, before its next claim, hands back what it does not know
    // it holds; this is that call, made as the fetcher makes it, through the same path once it works again.
    [Fact]
    public async Task Claim_AnswerLostAfterCommit_DoesNotCostTheJobItsOnlyRun()
    {
        var schema = NewSchema("lost_claim");
        var direct = await StoreAsync(schema);
        var id = (await direct.InsertManyAsync([TestJobs.New(maxRetries: 0)], default))[0].Id;
        await using var proxy = Proxy(out var viaProxy, oneReusedConnection: true);
        await using var node = new PostgresJobStore(viaProxy, ownsDataSource: true, new PostgresStoreOptions { Schema = schema, CommandTimeout = TimeSpan.FromSeconds(2) }, new PostgresNotifier(viaProxy, ownsDataSource: false, NullLogger.Instance));
        await node.InitializeAsync(default);
        proxy.FreezeResponses();

        var error = await Record.ExceptionAsync(() => node.ClaimAsync(new ClaimRequest(NodeA, TimeSpan.FromSeconds(1), [new QueueLimit("default", 1)]), default));
        Assert.NotNull(error);
        Assert.Equal(JobState.Running, (await direct.GetAsync(id, default))!.State);

        var released = await node.ReleaseLeasesAsync(NodeA, keep: [], "answer lost", default);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var options = new ForgeJobsOptions();
        var rescuer = new JobRescuer(direct, new RetryPolicy(new JobTypeRegistry(Options.Create(options))), new LeaderElection(direct, options, TimeProvider.System, NullLogger.Instance), new ForgeJobsMetrics(), options, TimeProvider.System, NullLogger.Instance);
        await rescuer.RescueAsync(default);

        var job = (await direct.GetAsync(id, default))!;
        Assert.Equal([id], released);
        Assert.True(job.State == JobState.Available, $"The job is {job.State.ToName()} after {(await direct.GetAttemptsAsync(id, default)).Count} recorded attempt(s), though no handler ever ran it.");
        Assert.Equal(AttemptOutcome.Interrupted, Assert.Single(await direct.GetAttemptsAsync(id, default)).Outcome);
        var claimed = Assert.Single(await direct.ClaimAsync(new ClaimRequest("node-b", TimeSpan.FromMinutes(1), [new QueueLimit("default", 1)]), default));
        Assert.Equal((2, 0), (claimed.Attempt, claimed.Failures));
    }

    private FreezableProxy Proxy(out NpgsqlDataSource viaProxy, bool oneReusedConnection = false)
    {
        var target = new NpgsqlConnectionStringBuilder(_database.ConnectionString);
        var proxy = new FreezableProxy(target.Host!, target.Port);
        var builder = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Pooling = oneReusedConnection };
        if (oneReusedConnection)
        {
            builder.MaxPoolSize = 1;
        }

        viaProxy = NpgsqlDataSource.Create(builder.ConnectionString);
        return proxy;
    }
}
