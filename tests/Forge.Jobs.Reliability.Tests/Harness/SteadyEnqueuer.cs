using Npgsql;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>An application that keeps enqueuing through the scenario's client while faults come and go: one call every
/// <c>period</c>, until stopped. A call that fails with an <see cref="NpgsqlException"/> may or may not have stored
/// its job and is only counted; the ids of calls that returned are tracked for invariant I1.</summary>
internal sealed class SteadyEnqueuer<TJob> : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _running;
    private int _stored;
    private int _failed;

    public SteadyEnqueuer(Scenario scenario, TimeSpan period, Func<TJob> next, JobOptions? options = null) =>
        _running = RunAsync(scenario, period, next, options);

    /// <summary>Calls that returned.</summary>
    public int Stored => Volatile.Read(ref _stored);

    /// <summary>Calls that failed.</summary>
    public int Failed => Volatile.Read(ref _failed);

    /// <summary>Stops enqueuing and waits for the call under way; a failure other than a database error is thrown here.</summary>
    public async Task StopAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        await _running;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private async Task RunAsync(Scenario scenario, TimeSpan period, Func<TJob> next, JobOptions? options)
    {
        using var pace = new PeriodicTimer(period);
        try
        {
            while (await pace.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    await scenario.EnqueueAsync([next()], options);
                    Interlocked.Increment(ref _stored);
                }
                catch (NpgsqlException)
                {
                    Interlocked.Increment(ref _failed);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }
}
