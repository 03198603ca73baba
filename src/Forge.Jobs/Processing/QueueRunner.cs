using System.Threading.Channels;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Processing;

/// <summary>One queue on this node: a bounded channel of claimed jobs and a fixed set of executor loops that
/// read it. The fetcher reserves free slots before it claims, so the channel never holds more jobs than there
/// are idle executors: a claimed job starts at once and the concurrency limit holds by construction.</summary>
internal sealed class QueueRunner
{
    private readonly Channel<ClaimedJob> _jobs;
    private readonly Func<ClaimedJob, Task> _run;
    private readonly Action _slotFreed;
    private Task _executors = Task.CompletedTask;
    private int _held;
    private int _reserved;
    private volatile bool _stopTaking;

    public QueueRunner(QueueOptions options, Func<ClaimedJob, Task> run, Action slotFreed)
    {
        Name = options.Name;
        Concurrency = options.Concurrency;
        _run = run;
        _slotFreed = slotFreed;
        _jobs = Channel.CreateBounded<ClaimedJob>(new BoundedChannelOptions(Concurrency)
        {
            SingleWriter = true,
            SingleReader = Concurrency == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string Name { get; }

    public int Concurrency { get; }

    /// <summary>Completes when every executor loop has ended.</summary>
    public Task Executors => _executors;

    public void Start() => _executors = Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(ExecuteAsync)));

    /// <summary>Reserves every free slot for a claim about to be made. Called only by the fetcher.</summary>
    public int Reserve()
    {
        var free = Concurrency - Volatile.Read(ref _held);
        if (free <= 0 || _stopTaking)
        {
            return 0;
        }

        Interlocked.Add(ref _held, free);
        _reserved = free;
        return free;
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
    public void Complete() => _jobs.Writer.TryComplete();

    /// <summary>Shutdown: finish the running jobs but start no more; see <see cref="TakeUnstarted"/>.</summary>
    public void StopTaking()
    {
        _stopTaking = true;
        _jobs.Writer.TryComplete();
    }

    /// <summary>The jobs handed over but never started, once <see cref="StopTaking"/> has been called.</summary>
    public IEnumerable<ClaimedJob> TakeUnstarted()
    {
        while (_jobs.Reader.TryRead(out var job))
        {
            yield return job;
        }
    }

    private async Task ExecuteAsync()
    {
        var reader = _jobs.Reader;
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
            }

            if (_stopTaking)
            {
                return;
            }
        }
    }
}
