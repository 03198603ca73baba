using System.Threading.Channels;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Processing;

/// <summary>One queue on this node: a channel of claimed jobs and the executor loops that read it. The fetcher
/// reserves free slots before it claims, so the channel never holds more jobs than there are idle executors: a
/// claimed job starts at once and the concurrency limit holds by construction. The limit can change while the node
/// runs. When it rises, loops are added; when it falls, loops above it end after their current job, and no slot is
/// reserved until the jobs held drop below it.</summary>
internal sealed class QueueRunner
{
    private readonly Channel<ClaimedJob> _jobs = Channel.CreateUnbounded<ClaimedJob>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Func<ClaimedJob, Task> _run;
    private readonly Action _slotFreed;
    private readonly Lock _loopsLock = new();
    private readonly TaskCompletionSource _loopsEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _limit;
    private int _loops;
    private bool _started;
    private bool _closed;
    private int _held;
    private int _reserved;
    private volatile bool _stopTaking;

    public QueueRunner(QueueOptions options, Func<ClaimedJob, Task> run, Action slotFreed)
    {
        Name = options.Name;
        ConfiguredConcurrency = options.Concurrency;
        Weight = options.Weight;
        _limit = options.Concurrency;
        _run = run;
        _slotFreed = slotFreed;
    }

    public string Name { get; }

    /// <summary>The concurrency the node was configured with, which applies when the store holds none for the queue.</summary>
    public int ConfiguredConcurrency { get; }

    public int Weight { get; }

    /// <summary>How many jobs of the queue may run at once now.</summary>
    public int Concurrency => Volatile.Read(ref _limit);

    /// <summary>Slots reserved, holding a claimed job, or running one.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Slots that can be reserved now.</summary>
    public int Free => _stopTaking ? 0 : Math.Max(0, Concurrency - Held);

    /// <summary>Completes when every executor loop has ended.</summary>
    public Task Executors
    {
        get
        {
            lock (_loopsLock)
            {
                return _started ? _loopsEnded.Task : Task.CompletedTask;
            }
        }
    }

    public void Start()
    {
        lock (_loopsLock)
        {
            _started = true;
            AddLoops();
        }
    }

    /// <summary>Changes how many jobs may run at once.</summary>
    /// <returns>The limit before the change.</returns>
    public int SetConcurrency(int concurrency)
    {
        lock (_loopsLock)
        {
            var previous = _limit;
            Volatile.Write(ref _limit, concurrency);
            if (_started)
            {
                AddLoops();
            }

            return previous;
        }
    }

    /// <summary>Reserves slots for a claim about to be made, at most <see cref="Free"/>. Called only by the fetcher.</summary>
    public void Reserve(int slots)
    {
        Interlocked.Add(ref _held, slots);
        _reserved = slots;
    }

    /// <summary>Hands a claimed job to an idle executor, using one reserved slot.</summary>
    /// <returns><see langword="false"/> when the queue has stopped taking jobs; the caller releases the job.</returns>
    public bool TryDispatch(ClaimedJob job)
    {
        _reserved--;
        if (_jobs.Writer.TryWrite(job))
        {
            return true;
        }

        Interlocked.Decrement(ref _held);
        return false;
    }

    /// <summary>Gives back the reserved slots that the claim did not fill.</summary>
    public void ReturnUnused()
    {
        Interlocked.Add(ref _held, -_reserved);
        _reserved = 0;
    }

    /// <summary>Drain: take nothing new, run every job already handed over.</summary>
    public void Complete()
    {
        Close();
        _jobs.Writer.TryComplete();
    }

    /// <summary>Shutdown: finish the running jobs but start no more; see <see cref="TakeUnstarted"/>.</summary>
    public void StopTaking()
    {
        _stopTaking = true;
        Complete();
    }

    /// <summary>The jobs handed over but never started, once <see cref="StopTaking"/> has been called.</summary>
    public IEnumerable<ClaimedJob> TakeUnstarted()
    {
        while (_jobs.Reader.TryRead(out var job))
        {
            yield return job;
        }
    }

    private void AddLoops()
    {
        while (!_closed && _loops < _limit)
        {
            _loops++;
            _ = Task.Run(ExecuteAsync);
        }
    }

    private void Close()
    {
        lock (_loopsLock)
        {
            _closed = true;
            if (_loops == 0)
            {
                _loopsEnded.TrySetResult();
            }
        }
    }

    /// <summary>Counts this loop out if there are more loops than the limit; it then ends.</summary>
    private bool LeaveIfSurplus()
    {
        lock (_loopsLock)
        {
            if (_loops <= _limit)
            {
                return false;
            }

            _loops--;
            return true;
        }
    }

    private void Ended()
    {
        lock (_loopsLock)
        {
            if (--_loops == 0 && _closed)
            {
                _loopsEnded.TrySetResult();
            }
        }
    }

    private async Task ExecuteAsync()
    {
        var reader = _jobs.Reader;
        var surplus = false;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (!_stopTaking && reader.TryRead(out var job))
                {
                    try
                    {
                        await _run(job).ConfigureAwait(false);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _held);
                        _slotFreed();
                    }

                    if (surplus = LeaveIfSurplus())
                    {
                        return;
                    }
                }

                if (_stopTaking)
                {
                    return;
                }
            }
        }
        finally
        {
            if (!surplus)
            {
                Ended();
            }
        }
    }
}
