namespace Forge.Jobs.Storage.InMemory;

internal sealed partial class InMemoryJobStore
{
    /// <summary>Queues with a stored concurrency or global limit. Guarded by the store's lock.</summary>
    private readonly Dictionary<string, QueueSettings> _queueSettings = new(StringComparer.Ordinal);

    public Task SetQueueConcurrencyAsync(string queue, int? concurrency, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Store(SettingsOf(queue) with { Concurrency = concurrency });
        }

        return Task.CompletedTask;
    }

    public Task SetQueueGlobalLimitAsync(string queue, int? limit, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Store(SettingsOf(queue) with { GlobalLimit = limit });
        }

        NotifyAvailable([queue]);
        return Task.CompletedTask;
    }

    /// <summary>How many jobs a claim may take from <paramref name="queue"/>: <paramref name="limit"/>, or less when a
    /// global limit leaves less room beside the queue's running jobs.</summary>
    private int RoomIn(string queue, int limit)
    {
        if (_queueSettings.GetValueOrDefault(queue)?.GlobalLimit is not { } globalLimit)
        {
            return limit;
        }

        var running = _running.Count(job => job.Queue == queue);
        return Math.Clamp(globalLimit - running, 0, limit);
    }

    private List<QueueSettings> SettingsOf(IReadOnlyList<string> queues) =>
        [.. queues.Where(_queueSettings.ContainsKey).Select(queue => _queueSettings[queue])];

    private QueueSettings SettingsOf(string queue) =>
        _queueSettings.GetValueOrDefault(queue) ?? new QueueSettings(queue, Concurrency: null, GlobalLimit: null);

    private void Store(QueueSettings settings)
    {
        if (settings is { Concurrency: null, GlobalLimit: null })
        {
            _queueSettings.Remove(settings.Queue);
        }
        else
        {
            _queueSettings[settings.Queue] = settings;
        }
    }

    private static void EarliestDue(Dictionary<string, TimeSpan> queues, string queue, TimeSpan dueIn)
    {
        if (!queues.TryGetValue(queue, out var earliest) || dueIn < earliest)
        {
            queues[queue] = dueIn;
        }
    }

    private void NotifyScheduled(Dictionary<string, TimeSpan>? queues)
    {
        if (queues is null)
        {
            return;
        }

        var listeners = Listeners();
        foreach (var (queue, dueIn) in queues)
        {
            foreach (var listener in listeners)
            {
                listener.OnJobsScheduled(queue, dueIn);
            }
        }
    }
}
