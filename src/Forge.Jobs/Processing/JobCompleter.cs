using System.Threading.Channels;
using Forge.Jobs.Diagnostics;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Processing;

/// <summary>Stores outcomes in batches: whatever has queued up while the previous batch was written goes in the
/// next round trip, so a busy node writes many outcomes per call and an idle one writes each at once. A batch
/// that fails is retried with backoff for as long as its leases can still be live; after that the rescuer owns
/// those jobs, so a live node never keeps a job running that it could not finish. After each batch is stored,
/// <c>stored</c> runs: the jobs in it no longer count as running. Once the store has answered for a batch, or the
/// completer gave it up, the node no longer holds its attempts (<paramref name="held"/>).</summary>
internal sealed class JobCompleter(IJobStore store, HeldJobs held, ForgeJobsOptions options, ForgeJobsMetrics metrics, TimeProvider time, ILogger logger, Action stored)
{
    private const int MaxBatch = 1000;
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly Channel<Completion> _completions = Channel.CreateUnbounded<Completion>(new UnboundedChannelOptions { SingleReader = true });

    private int _unstored;

    /// <summary>Outcomes queued or in the batch being written: not yet stored, nor given up on.</summary>
    public int Queued => Volatile.Read(ref _unstored);

    public void Enqueue(Completion completion)
    {
        if (_completions.Writer.TryWrite(completion))
        {
            Interlocked.Increment(ref _unstored);
        }
        else
        {
            Log.OutcomeAfterShutdown(logger, completion.Id, completion.Attempt);
        }
    }

    /// <summary>No more outcomes will come; <see cref="RunAsync"/> ends once the queued ones are stored.</summary>
    public void Complete() => _completions.Writer.TryComplete();

    /// <param name="abortToken">Ends retries of a failing batch early (shutdown ran out of time).</param>
    public async Task RunAsync(CancellationToken abortToken)
    {
        var batch = new List<Completion>(64);
        var reader = _completions.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var completion))
            {
                batch.Add(completion);
            }

            await StoreAsync(batch, abortToken).ConfigureAwait(false);
            Interlocked.Add(ref _unstored, -batch.Count);

            // A batch given up on is no longer held either: should the node hand back unknown leases (after a lost
            // claim) before those leases lapse, its jobs are handed back instead of rescued; they run again either way.
            foreach (var completion in batch)
            {
                held.Remove(completion.Id, completion.Attempt);
            }

            batch.Clear();
        }
    }

    private async Task StoreAsync(List<Completion> batch, CancellationToken abortToken)
    {
        var giveUpAt = time.GetUtcNow() + (options.LeaseDuration - options.LeaseRenewInterval);
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                var refused = await store.CompleteManyAsync(batch, CancellationToken.None).ConfigureAwait(false);
                foreach (var completion in refused)
                {
                    Log.LeaseLost(logger, completion.Id, completion.Attempt);
                }

                metrics.LeasesLost(refused.Count);

                stored();
                return;
            }
            catch (Exception exception)
            {
                if (abortToken.IsCancellationRequested || time.GetUtcNow() + delay > giveUpAt)
                {
                    Log.CompletionsDropped(logger, exception, batch.Count);
                    return;
                }

                Log.CompleteFailed(logger, exception, batch.Count, delay);
                try
                {
                    await Task.Delay(delay, time, abortToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Log.CompletionsDropped(logger, exception, batch.Count);
                    return;
                }

                delay = delay * 2 > MaxRetryDelay ? MaxRetryDelay : delay * 2;
            }
        }
    }
}
