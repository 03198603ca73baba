using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>How nodes behind a transaction-mode pooler learn of new jobs: <c>LISTEN</c> needs a session, which the
/// pooler does not give.</summary>
public enum Wakeup
{
    /// <summary><c>PollOnly = true</c>: no <c>LISTEN</c>; pickup waits for the next poll.</summary>
    PollOnly,

    /// <summary><c>ListenConnectionString</c> set to a direct connection to PostgreSQL.</summary>
    DirectListen,
}

/// <summary>A scenario's library path through PgBouncer in transaction mode: nodes and an enqueuing client connect
/// through it, the ledger and the scenario's own checks stay direct, and wake-ups follow <see cref="Wakeup"/>.</summary>
internal sealed class BehindPgBouncer : IAsyncDisposable
{
    private readonly Scenario _scenario;
    private readonly ServiceProvider _services;

    private BehindPgBouncer(Scenario scenario, PgBouncer bouncer, Wakeup wakeup)
    {
        _scenario = scenario;
        Bouncer = bouncer;
        Wakeup = wakeup;
        ConnectionString = bouncer.ConnectionString(scenario.ConnectionString);
        _services = new ServiceCollection()
            .AddLogging()
            .AddForgeJobs(forge => forge
                .UsePostgres(ConnectionString, o =>
                {
                    o.Schema = scenario.Schema;
                    o.PollOnly = true;
                })
                .AddHandler<WorkHandler, WorkJob>()
                .AddHandler<FailFastHandler, FailFastJob>()
                .AddHandler<TransactionalHandler, TransactionalJob>())
            .BuildServiceProvider();
        Client = _services.GetRequiredService<IJobClient>();
    }

    public PgBouncer Bouncer { get; }

    public Wakeup Wakeup { get; }

    /// <summary>The scenario's database, through PgBouncer.</summary>
    public string ConnectionString { get; }

    /// <summary>A client whose connections go through PgBouncer, as an application behind it would have.</summary>
    public IJobClient Client { get; }

    public static async Task<BehindPgBouncer> StartAsync(Scenario scenario, Wakeup wakeup, int poolSize = 20) =>
        new(scenario, await PgBouncer.StartAsync(scenario.ConnectionString, poolSize), wakeup);

    /// <summary><paramref name="settings"/> with the library's connections through PgBouncer and the wake-up mode.</summary>
    public NodeSettings Node(NodeSettings settings) => settings with
    {
        ConnectionString = ConnectionString,
        PollOnly = Wakeup == Wakeup.PollOnly,
        ListenConnectionString = Wakeup == Wakeup.DirectListen ? _scenario.ConnectionString : null,
    };

    /// <summary>Enqueues through PgBouncer and tracks the returned ids for invariant I1.</summary>
    public async Task<IReadOnlyList<JobId>> EnqueueAsync<TJob>(IReadOnlyList<TJob> jobs, JobOptions? options = null)
    {
        var ids = new List<JobId>(jobs.Count);
        foreach (var chunk in jobs.Chunk(5_000))
        {
            ids.AddRange(await Client.EnqueueManyAsync(chunk, options));
        }

        _scenario.Track(ids);
        return ids;
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Bouncer.DisposeAsync();
    }
}
