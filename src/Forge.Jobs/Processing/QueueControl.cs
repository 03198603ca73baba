using Forge.Jobs.Diagnostics;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Processing;

/// <summary>Applies stored queue settings to this node: concurrencies to its queues, and which of its queues have a
/// global limit. Settings come with each heartbeat, and those set through this process's own client apply at once. A
/// heartbeat answer read before a local change landed is skipped, so it cannot undo that change; the next beat reads
/// the change back from the store.</summary>
internal sealed class QueueControl
{
    private readonly Lock _lock = new();
    private IReadOnlyDictionary<string, QueueRunner> _queues = new Dictionary<string, QueueRunner>();
    private string[] _limited = [];
    private Action? _capacityGrew;
    private ILogger? _logger;
    private long _version;

    /// <summary>Changes with every local change; a heartbeat takes it before it asks the store.</summary>
    public long Version
    {
        get
        {
            lock (_lock)
            {
                return _version;
            }
        }
    }

    /// <summary>This node's queues that have a global limit.</summary>
    public IReadOnlyList<string> LimitedQueues => Volatile.Read(ref _limited);

    /// <summary>Connects the node's queues; <paramref name="capacityGrew"/> runs when a queue may take more jobs.</summary>
    public void Attach(IReadOnlyDictionary<string, QueueRunner> queues, Action capacityGrew, ILogger logger)
    {
        lock (_lock)
        {
            _queues = queues;
            _capacityGrew = capacityGrew;
            _logger = logger;
        }
    }

    public void ApplyLocalConcurrency(string queue, int? concurrency)
    {
        lock (_lock)
        {
            _version++;
            if (_queues.TryGetValue(queue, out var runner))
            {
                Apply(runner, concurrency);
            }
        }
    }

    public void ApplyLocalGlobalLimit(string queue, int? limit)
    {
        lock (_lock)
        {
            _version++;
            if (_queues.ContainsKey(queue))
            {
                Volatile.Write(ref _limited, limit is null ? [.. _limited.Where(q => q != queue)] : [.. _limited.Append(queue).Distinct()]);
            }
        }
    }

    /// <summary>Applies a heartbeat's answer: every queue of the node gets its stored concurrency, or its configured one
    /// when <paramref name="settings"/> has none for it, and the queues with a global limit are taken from it. Skipped when <paramref name="version"/>, taken before the store
    /// was asked, is no longer current.</summary>
    public void ApplyStored(long version, IReadOnlyList<QueueSettings> settings)
    {
        lock (_lock)
        {
            if (version != _version)
            {
                return;
            }

            foreach (var runner in _queues.Values)
            {
                Apply(runner, settings.FirstOrDefault(s => s.Queue == runner.Name)?.Concurrency);
            }

            Volatile.Write(ref _limited, [.. settings.Where(s => s.GlobalLimit is not null && _queues.ContainsKey(s.Queue)).Select(s => s.Queue)]);
        }
    }

    private void Apply(QueueRunner runner, int? concurrency)
    {
        var next = concurrency ?? runner.ConfiguredConcurrency;
        var previous = runner.SetConcurrency(next);
        if (previous == next)
        {
            return;
        }

        Log.QueueConcurrencyChanged(_logger!, runner.Name, previous, next);
        if (next > previous)
        {
            _capacityGrew!();
        }
    }
}
