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
    // saw no job, so nothing runs it and nothing renews its lease; the job stays running under that node until the lease
    // lapses, and then the rescuer records a failed attempt (lease_expired) and counts it against the job's retries. A job with
    // MaxRetries = 0 is dead without ever having run; any job loses a retry per lost claim.
    [Fact(Skip = "Known gap, left for the reliability issue: a claim whose answer is lost after its commit strands its jobs until their leases lapse, and the rescue counts a failure; the fix is a store call that hands back leases the node does not know it holds.")]
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
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var options = new ForgeJobsOptions();
        var rescuer = new JobRescuer(direct, new RetryPolicy(new JobTypeRegistry(Options.Create(options))), new LeaderElection(direct, options, TimeProvider.System, NullLogger.Instance), options, TimeProvider.System, NullLogger.Instance);
        await rescuer.RescueAsync(default);

        var job = (await direct.GetAsync(id, default))!;
        Assert.True(job.State != JobState.Dead, $"The job is {job.State.ToName()} after {(await direct.GetAttemptsAsync(id, default)).Count} recorded attempt(s), though no handler ever ran it.");
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
