namespace Forge.Jobs.LoadTest;

/// <summary>A job system under test, as the coordinating process drives it: it enqueues no-op jobs that carry the
/// <see cref="System.Diagnostics.Stopwatch"/> timestamp of their enqueue (0 when they are not timed), and the node
/// processes started with <see cref="NodeArguments"/> run them.</summary>
internal interface ILoadTarget : IAsyncDisposable
{
    string Name { get; }

    /// <summary>The arguments that make a node process serve this target (after <c>node</c>).</summary>
    IReadOnlyList<string> NodeArguments { get; }

    /// <summary>Creates the target's tables, empty.</summary>
    Task PrepareAsync();

    /// <summary>Enqueues <paramref name="count"/> jobs in as few round trips as the system allows.</summary>
    Task EnqueueManyAsync(int count, long stamp);

    /// <summary>Enqueues one job in its own transaction.</summary>
    Task EnqueueOneAsync(long stamp);

    /// <summary>How many enqueued jobs have not yet succeeded.</summary>
    Task<long> CountUnfinishedAsync();
}

/// <summary>The engine of a job system, run inside a node process.</summary>
internal interface ILoadNode : IAsyncDisposable
{
    /// <summary>Runs the engine through every hot path once (on tables of its own), so that the measured run does
    /// not pay for just-in-time compilation.</summary>
    Task WarmUpAsync();

    Task StartAsync();

    Task StopAsync();
}
