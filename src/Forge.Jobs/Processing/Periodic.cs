namespace Forge.Jobs.Processing;

/// <summary>The loop of every periodic background task: one tick per interval on the node's clock until the
/// node stops. A tick handles its own errors; a slow tick delays the next instead of overlapping it.</summary>
internal static class Periodic
{
    public static async Task RunAsync(TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> tick, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await tick(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
