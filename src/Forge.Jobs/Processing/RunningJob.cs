using System.Collections.Concurrent;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Processing;

/// <summary>Why a running job's token fired before its timeout.</summary>
internal enum StopReason
{
    None,
    Cancelled,
    Shutdown,
    LeaseLost,
}

/// <summary>One attempt in flight on this node: its job, and the token that its timeout, a cancellation,
/// shutdown or a lost lease fires.</summary>
internal sealed class RunningJob : IDisposable
{
    private readonly CancellationTokenSource _cancellation;
    private readonly TimeProvider _time;
    private AttemptLog? _log;
    private int _reason;

    public RunningJob(ClaimedJob job, TimeProvider time)
    {
        Job = job;
        _time = time;
        // Clamped so that a timeout stored by some other producer cannot overflow the timer.
        _cancellation = new CancellationTokenSource(job.Timeout > JobDefaults.MaxTimeout ? JobDefaults.MaxTimeout : job.Timeout, time);
    }

    public ClaimedJob Job { get; }

    /// <summary>Set when the handler stored its own success inside its transaction; the node then stores nothing.</summary>
    public bool CompletedByHandler { get; set; }

    public CancellationToken Token => _cancellation.Token;

    /// <summary>The attempt's log on top of <paramref name="inner"/>, made on first use: a handler that never asks for
    /// its logger costs nothing.</summary>
    public ILogger Logger(ILogger inner)
    {
        if (Volatile.Read(ref _log) is { } log)
        {
            return log;
        }

        return Interlocked.CompareExchange(ref _log, new AttemptLog(inner, _time), null) ?? _log!;
    }

    /// <summary>The lines the handler logged so far, for the attempt's completion; <see langword="null"/> when none.</summary>
    public JobLogLine[]? Logs() => Volatile.Read(ref _log)?.ToLines();

    /// <summary>The first reason given to <see cref="Stop"/>; <see cref="StopReason.None"/> with a fired token means timeout.</summary>
    public StopReason Reason => (StopReason)Volatile.Read(ref _reason);

    /// <summary>Fires the token for <paramref name="reason"/>. The handler's cancellation callbacks run off the
    /// caller's thread, so a slow callback cannot stall the lease keeper or the store's listener.</summary>
    public void Stop(StopReason reason)
    {
        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)StopReason.None) == (int)StopReason.None)
        {
            _ = Task.Run(() =>
            {
                try
                {
                    _cancellation.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The attempt finished first.
                }
            });
        }
    }

    public void Dispose() => _cancellation.Dispose();
}

/// <summary>The attempts in flight on this node, by job id.</summary>
internal sealed class RunningJobs
{
    private readonly ConcurrentDictionary<JobId, RunningJob> _jobs = new();
    private volatile int _stopAll;

    public int Count => _jobs.Count;

    /// <summary>Tracks an attempt. After <see cref="StopAll"/>, an attempt that starts late is stopped at once.</summary>
    public void Add(RunningJob job)
    {
        _jobs[job.Job.Id] = job;
        if (_stopAll != (int)StopReason.None)
        {
            job.Stop((StopReason)_stopAll);
        }
    }

    public void Remove(RunningJob job) => _jobs.TryRemove(new KeyValuePair<JobId, RunningJob>(job.Job.Id, job));

    /// <summary>Stops whichever attempt of the job runs here.</summary>
    public void Stop(JobId id, StopReason reason)
    {
        if (_jobs.TryGetValue(id, out var job))
        {
            job.Stop(reason);
        }
    }

    /// <summary>Stops the given attempt only: an answer about an earlier attempt must not stop a newer one.</summary>
    public void Stop(JobId id, int attempt, StopReason reason)
    {
        if (_jobs.TryGetValue(id, out var job) && job.Job.Attempt == attempt)
        {
            job.Stop(reason);
        }
    }

    public void StopAll(StopReason reason)
    {
        _stopAll = (int)reason;
        foreach (var job in _jobs.Values)
        {
            job.Stop(reason);
        }
    }

    public List<LeaseRef> Leases() => [.. _jobs.Values.Select(static r => new LeaseRef(r.Job.Id, r.Job.Attempt))];
}
