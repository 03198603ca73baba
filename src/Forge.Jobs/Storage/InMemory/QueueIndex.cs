namespace Forge.Jobs.Storage.InMemory;

/// <summary>One queue's claimable jobs: those due, in claim order, and those waiting for their run-at time.
/// Due jobs move from <see cref="_pending"/> to <see cref="_ready"/> when the clock passes their run-at.</summary>
internal sealed class QueueIndex
{
    /// <summary>Highest priority first, then by run-at, then by insertion.</summary>
    public static readonly Comparer<StoredJob> ClaimOrder = Comparer<StoredJob>.Create(static (a, b) =>
    {
        var byPriority = b.Priority.CompareTo(a.Priority);
        if (byPriority != 0)
        {
            return byPriority;
        }

        var byRunAt = a.RunAt.CompareTo(b.RunAt);
        return byRunAt != 0 ? byRunAt : a.Id.CompareTo(b.Id);
    });

    private static readonly Comparer<StoredJob> DueOrder = Comparer<StoredJob>.Create(static (a, b) =>
    {
        var byRunAt = a.RunAt.CompareTo(b.RunAt);
        return byRunAt != 0 ? byRunAt : a.Id.CompareTo(b.Id);
    });

    private readonly SortedSet<StoredJob> _ready = new(ClaimOrder);
    private readonly SortedSet<StoredJob> _pending = new(DueOrder);

    /// <summary>How many jobs wait in this queue: available, scheduled or retrying.</summary>
    public int Count => _ready.Count + _pending.Count;

    /// <summary>Adds a job in state available (due now) or scheduled/retrying (due later).</summary>
    public void Add(StoredJob job)
    {
        if (job.State == JobState.Available)
        {
            _ready.Add(job);
        }
        else
        {
            _pending.Add(job);
        }
    }

    public void Remove(StoredJob job)
    {
        if (!_ready.Remove(job))
        {
            _pending.Remove(job);
        }
    }

    /// <summary>Makes every job whose run-at has passed available.</summary>
    public void PromoteDue(DateTimeOffset now)
    {
        while (_pending.Min is { } next && next.RunAt <= now)
        {
            _pending.Remove(next);
            next.State = JobState.Available;
            _ready.Add(next);
        }
    }

    /// <summary>The run-at of the earliest job not due yet, as of the last <see cref="PromoteDue"/>.</summary>
    public DateTimeOffset? NextRunAt => _pending.Min?.RunAt;

    public StoredJob? TakeNext()
    {
        var next = _ready.Min;
        if (next is not null)
        {
            _ready.Remove(next);
        }

        return next;
    }
}
