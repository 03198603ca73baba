using Forge.Jobs.Diagnostics;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Processing;

/// <summary>Claims jobs for every queue of the node and hands them to the queues' executors. Each claim is one store
/// call for all queues, up to the slots reserved for them, so a claimed job starts at once. Without a node-wide cap, or
/// while it leaves room for every free slot, each queue is offered all its free slots. When
/// <see cref="ForgeJobsOptions.MaxConcurrency"/> leaves fewer, the cap is shared among the queues that may have jobs by
/// weight, and the node's free slots go to the queues below their share. A queue that comes back with fewer jobs than
/// offered drops out of the share, and what it left goes to the others in a further claim of the same round; it counts
/// as empty until the store hints at jobs for it, its next job is due, or the poll interval passes, so an idle queue is
/// not asked on every round. A claim takes no more payload bytes than <see cref="ForgeJobsOptions.MaxClaimBytes"/> (but
/// at least one job); a queue that it cut short is not empty, so it stays in the round and is asked again at once. A
/// round whose last claim filled every slot it offered starts the next at once, since more jobs are probably waiting.
/// Otherwise the fetcher sleeps until a slot frees, the store hints at new jobs, the earliest scheduled or retrying job
/// that the store or a hint reported is due, or the poll interval passes.
/// A claim that fails may have committed all the same, its answer lost on the way: its jobs then run under this node's
/// lease but nothing here runs or renews them. So after a failed claim, before it claims again (no claim of this node is
/// then under way), and when it stops, the fetcher hands back every job running under this node's id that the node
/// does not hold (<see cref="HeldJobs"/>); they run at once elsewhere or here, their attempt not counted as a failure.
/// A fetcher whose claims succeed never looks.</summary>
internal sealed class JobFetcher
{
    private static readonly TimeSpan MaxFailureDelay = TimeSpan.FromSeconds(30);

    /// <summary>How long a stopping node tries to hand back jobs it does not know it holds.</summary>
    private static readonly TimeSpan ReleaseAtStopTimeout = TimeSpan.FromSeconds(2);

    private readonly IJobStore _store;
    private readonly QueueRunner[] _queues;
    private readonly HeldJobs _held;
    private readonly Dictionary<string, int> _indexOf;
    private readonly int[] _weights;
    private readonly Action<ClaimedJob> _releaseUnstarted;
    private readonly ForgeJobsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long[] _emptyUntilTicks;
    private long _hintedDueTicks = long.MaxValue;
    private long _sleepingUntilTicks = long.MinValue;

    public JobFetcher(
        IJobStore store,
        IReadOnlyDictionary<string, QueueRunner> queues,
        HeldJobs held,
        Action<ClaimedJob> releaseUnstarted,
        ForgeJobsOptions options,
        TimeProvider time,
        ILogger logger)
    {
        _store = store;
        _queues = [.. queues.Values];
        _indexOf = _queues.Select((queue, i) => (queue.Name, i)).ToDictionary(q => q.Name, q => q.i, StringComparer.Ordinal);
        _weights = [.. _queues.Select(q => q.Weight)];
        _emptyUntilTicks = new long[_queues.Length];
        _held = held;
        _releaseUnstarted = releaseUnstarted;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public WakeSignal Wake { get; } = new();

    /// <summary>The store hinted at jobs for <paramref name="queue"/> (for every queue when it is empty): it no longer
    /// counts as empty, and the fetcher claims again.</summary>
    public void JobsAvailable(string queue)
    {
        for (var i = 0; i < _queues.Length; i++)
        {
            if (queue.Length == 0 || _queues[i].Name == queue)
            {
                Interlocked.Exchange(ref _emptyUntilTicks[i], long.MinValue);
            }
        }

        Wake.Set();
    }

    /// <summary>Makes sure the fetcher claims again no later than <paramref name="dueAt"/> (on the node's clock), when a
    /// job of <paramref name="queue"/> becomes due that the store may not have reported yet.</summary>
    public void WakeAt(string queue, DateTimeOffset dueAt)
    {
        var due = dueAt.UtcTicks;
        LowerTo(ref _emptyUntilTicks[_indexOf[queue]], due);
        LowerTo(ref _hintedDueTicks, due);

        // Paired with SleepAsync, which publishes its deadline before it reads the hint: either it sees this hint, or
        // this sees its deadline and cuts the sleep short.
        if (due < Interlocked.Read(ref _sleepingUntilTicks))
        {
            Wake.Set();
        }
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        var releaseDue = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Round round;
                var releasing = releaseDue;
                try
                {
                    if (releasing)
                    {
                        // Not cancelled by the stop, like a claim; the command timeout bounds it.
                        await ReleaseUnknownAsync(CancellationToken.None).ConfigureAwait(false);
                        releaseDue = releasing = false;
                    }

                    round = await ClaimRoundAsync().ConfigureAwait(false);
                    failures = 0;
                }
                catch (Exception exception)
                {
                    releaseDue = true;
                    if (stoppingToken.IsCancellationRequested)
                    {
                        break;
                    }

                    var delay = TimeSpan.FromMilliseconds(Math.Min(MaxFailureDelay.TotalMilliseconds, 100 * Math.Pow(2, failures++)));
                    if (releasing)
                    {
                        Log.ReleaseUnknownFailed(_logger, exception, delay);
                    }
                    else
                    {
                        Log.ClaimFailed(_logger, exception, delay);
                    }

                    await Task.Delay(delay, _time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                if (!round.Filled)
                {
                    await SleepAsync(round.NextDueAt, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        if (releaseDue)
        {
            await ReleaseUnknownAtStopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Hands back the jobs running under this node's id that it does not hold. Called only between claims.</summary>
    private async Task ReleaseUnknownAsync(CancellationToken cancellationToken)
    {
        var nodeId = _options.NodeId;
        var released = await _store.ReleaseLeasesAsync(
            nodeId, _held.Ids(), $"Handed back unstarted by node {nodeId}: the answer to the claim that took it never arrived.", cancellationToken).ConfigureAwait(false);
        if (released.Count > 0)
        {
            Log.UnknownLeasesReleased(_logger, released.Count, nodeId);
        }
    }

    private async Task ReleaseUnknownAtStopAsync()
    {
        using var timeout = new CancellationTokenSource(ReleaseAtStopTimeout, _time);
        try
        {
            await ReleaseUnknownAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.ReleaseUnknownAtStopFailed(_logger, exception, _options.NodeId);
        }
    }

    private async Task<Round> ClaimRoundAsync()
    {
        var shortThisRound = new bool[_queues.Length];
        DateTimeOffset? nextDueAt = null;
        int[] offers;
        while ((offers = Offers(shortThisRound)).Any(slots => slots > 0))
        {
            var startedAt = _time.GetUtcNow();
            var (claimed, nextDueIn, cut) = await ClaimAsync(offers).ConfigureAwait(false);
            var due = startedAt + nextDueIn;
            if (due < nextDueAt || nextDueAt is null)
            {
                nextDueAt = due;
            }

            // A short queue's next job is due no sooner than the earliest the store reported for the short queues.
            var emptyUntil = (due < startedAt + _options.PollInterval ? due.Value : startedAt + _options.PollInterval).UtcTicks;
            var anyShort = false;
            for (var i = 0; i < offers.Length; i++)
            {
                // A queue cut short by the claim's byte budget has more jobs: it stays in the round.
                if (claimed[i] < offers[i] && !cut.Contains(_queues[i].Name))
                {
                    shortThisRound[i] = anyShort = true;
                    Interlocked.Exchange(ref _emptyUntilTicks[i], emptyUntil);
                }
            }

            if (!anyShort)
            {
                return new Round(Filled: true, nextDueAt);
            }
        }

        return new Round(Filled: false, nextDueAt);
    }

    /// <summary>The slots to offer each queue in the next claim: none to a queue that came back short in this round.
    /// Without a node cap, or when it leaves room for them all, every free slot. Otherwise the cap, less what the
    /// queues that are out of the share hold, is shared by weight among the queues that may have jobs, each up to its
    /// own concurrency, and the node's free slots go by weight to those below their share.</summary>
    private int[] Offers(bool[] shortThisRound)
    {
        var free = _queues.Select((q, i) => shortThisRound[i] ? 0 : q.Free).ToArray();
        if (_options.MaxConcurrency is not { } cap)
        {
            return free;
        }

        var held = _queues.Select(q => q.Held).ToArray();
        var nodeFree = cap - held.Sum();
        if (nodeFree <= 0)
        {
            return new int[_queues.Length];
        }

        if (free.Sum() <= nodeFree)
        {
            return free;
        }

        var now = _time.GetUtcNow().UtcTicks;
        var inShare = _queues.Select((_, i) => !shortThisRound[i] && Interlocked.Read(ref _emptyUntilTicks[i]) <= now).ToArray();
        var shared = cap - held.Where((_, i) => !inShare[i]).Sum();
        var targets = SlotShares.Apportion(shared, _weights, [.. _queues.Select((q, i) => inShare[i] ? q.Concurrency : 0)]);
        var belowShare = free.Select((slots, i) => inShare[i] ? Math.Clamp(targets[i] - held[i], 0, slots) : 0).ToArray();
        return SlotShares.Apportion(nodeFree, _weights, belowShare);
    }

    /// <returns>How many jobs each queue got, the store's time until the next due job of a queue that got fewer than
    /// offered, and the queues that the claim's byte budget cut short.</returns>
    private async Task<(int[] Claimed, TimeSpan? NextDueIn, IReadOnlyList<string> Cut)> ClaimAsync(int[] offers)
    {
        var limits = new List<QueueLimit>(_queues.Length);
        for (var i = 0; i < _queues.Length; i++)
        {
            if (offers[i] > 0)
            {
                _queues[i].Reserve(offers[i]);
                limits.Add(new QueueLimit(_queues[i].Name, offers[i]));
            }
        }

        try
        {
            // Not cancelled by the stop: a claim cut off after its commit would strand the jobs it took until their
            // leases expire. The command timeout bounds it instead.
            var request = new ClaimRequest(_options.NodeId, _options.LeaseDuration, limits, _options.MaxClaimBytes);
            var result = await _store.ClaimAsync(request, CancellationToken.None).ConfigureAwait(false);
            var claimed = new int[_queues.Length];
            foreach (var job in result)
            {
                _held.Add(job);
                var i = _indexOf[job.Queue];
                claimed[i]++;
                if (!_queues[i].TryDispatch(job))
                {
                    _releaseUnstarted(job);
                }
            }

            return (claimed, result.NextDueIn, result.Cut);
        }
        finally
        {
            foreach (var queue in _queues)
            {
                queue.ReturnUnused();
            }
        }
    }

    /// <summary>Sleeps until woken, or until the earliest of the poll interval, <paramref name="nextDueAt"/>, the end of
    /// a free queue's time as empty and the earliest hinted due time; a hinted time that has come is then used up.</summary>
    private async Task SleepAsync(DateTimeOffset? nextDueAt, CancellationToken stoppingToken)
    {
        var now = _time.GetUtcNow();
        var until = now + _options.PollInterval;
        if (nextDueAt < until)
        {
            until = nextDueAt.Value;
        }

        // Under a node cap, a queue that counts as empty gets slots again when that ends.
        for (var i = 0; i < _queues.Length; i++)
        {
            var emptyUntil = Interlocked.Read(ref _emptyUntilTicks[i]);
            if (emptyUntil > now.UtcTicks && emptyUntil < until.UtcTicks && _queues[i].Free > 0)
            {
                until = new DateTimeOffset(emptyUntil, TimeSpan.Zero);
            }
        }

        Interlocked.Exchange(ref _sleepingUntilTicks, until.UtcTicks);
        var hinted = Interlocked.Read(ref _hintedDueTicks);
        if (hinted < until.UtcTicks)
        {
            until = new DateTimeOffset(hinted, TimeSpan.Zero);
        }

        try
        {
            if (until > now)
            {
                await Wake.WaitAsync(until - now, _time, stoppingToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Exchange(ref _sleepingUntilTicks, long.MinValue);
        }

        hinted = Interlocked.Read(ref _hintedDueTicks);
        if (hinted <= _time.GetUtcNow().UtcTicks)
        {
            Interlocked.CompareExchange(ref _hintedDueTicks, long.MaxValue, hinted);
        }
    }

    private static void LowerTo(ref long ticks, long value)
    {
        long seen;
        while (value < (seen = Interlocked.Read(ref ticks)) && Interlocked.CompareExchange(ref ticks, value, seen) != seen)
        {
        }
    }

    /// <param name="Filled">The last claim of the round filled every slot it offered.</param>
    /// <param name="NextDueAt">When the earliest job the store reported for a short queue is due, on the node's clock.</param>
    private readonly record struct Round(bool Filled, DateTimeOffset? NextDueAt);
}
