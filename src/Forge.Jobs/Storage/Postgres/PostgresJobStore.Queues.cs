using System.Collections.Concurrent;
using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

internal sealed partial class PostgresJobStore
{
    /// <summary>Queues this store knows to have a global limit: their claims lock them first. Learned from heartbeats,
    /// from limits set through this store, and from claims that found a limit it had not heard of.</summary>
    private readonly ConcurrentDictionary<string, bool> _limitedQueues = new(StringComparer.Ordinal);

    public async Task SetQueueConcurrencyAsync(string queue, int? concurrency, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.SetQueueConcurrency, queue, concurrency);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task SetQueueGlobalLimitAsync(string queue, int? limit, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.SetQueueGlobalLimit, queue, limit, Channel);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (limit is null)
        {
            _limitedQueues.TryRemove(queue, out _);
        }
        else
        {
            _limitedQueues[queue] = true;
        }
    }

    /// <summary>The queues among <paramref name="queues"/> to lock before claiming, in the order every claimer locks them.</summary>
    private string[] LimitedAmong(string[] queues) =>
        _limitedQueues.IsEmpty ? [] : [.. queues.Where(_limitedQueues.ContainsKey).Order(StringComparer.Ordinal)];

    private void LearnGlobalLimits(IEnumerable<string> limited)
    {
        foreach (var queue in limited)
        {
            _limitedQueues[queue] = true;
        }
    }

    /// <summary>Takes the limits of <paramref name="queues"/> from a heartbeat's answer, which lists every one of them that has settings.</summary>
    private void LearnGlobalLimits(IReadOnlyList<string> queues, List<QueueSettings> settings)
    {
        foreach (var queue in queues)
        {
            if (settings.Find(s => s.Queue == queue)?.GlobalLimit is null)
            {
                _limitedQueues.TryRemove(queue, out _);
            }
            else
            {
                _limitedQueues[queue] = true;
            }
        }
    }

    /// <summary>The wake-up hint for jobs stored to run later: per queue, when its earliest is due, computed on the database clock.</summary>
    private NpgsqlBatchCommand ScheduledHint(List<NewJob> scheduled) => BatchCommand(
        _sql.NotifyScheduled,
        Channel,
        scheduled.Select(job => job.Queue).ToArray(),
        scheduled.Select(job => job.RunAt?.ToUniversalTime()).ToArray(),
        scheduled.Select(job => (long)job.Delay.TotalMilliseconds).ToArray());
}
