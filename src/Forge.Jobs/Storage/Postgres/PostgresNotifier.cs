using System.Globalization;
using Forge.Jobs.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>Holds one LISTEN connection per store and turns notifications into listener hints. Notifications are
/// only hints: when the connection drops, the loop reconnects with backoff, and polling covers the gap.</summary>
internal sealed class PostgresNotifier(NpgsqlDataSource dataSource, bool ownsDataSource, ILogger logger) : IAsyncDisposable
{
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan IdleCheckAfter = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan IdleCheckTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly List<IJobStoreListener> _listeners = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _listening;

    /// <summary>Adds a listener, starting the LISTEN loop on first use. Completes once the first LISTEN has been
    /// attempted, so that a caller which enqueues right after subscribing is heard.</summary>
    public async Task<IDisposable> SubscribeAsync(string channel, IJobStoreListener listener, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _listeners.Add(listener);
            _listening ??= Task.Run(() => ListenAsync(channel, _stopping.Token), CancellationToken.None);
        }

        await _firstAttempt.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Subscription(this, listener);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_listening is { } listening)
        {
            await listening.ConfigureAwait(false);
        }

        _stopping.Dispose();
        if (ownsDataSource)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task ListenAsync(string channel, CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var connection = await OpenAsync(stoppingToken).ConfigureAwait(false);
                await using (connection.ConfigureAwait(false))
                {
                    connection.Notification += (_, e) => Dispatch(e.Payload);
                    var listen = new NpgsqlCommand($"LISTEN \"{channel}\"", connection);
                    await using (listen.ConfigureAwait(false))
                    {
                        await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                    }

                    _firstAttempt.TrySetResult();
                    if (failures > 0)
                    {
                        Log.ListenRestored(logger, channel);
                        WakeAll();
                    }

                    failures = 0;
                    while (true)
                    {
                        // A path that dies without a reset never ends a plain wait; a quiet spell is checked with
                        // a query that fails on a dead connection, which is then replaced.
                        if (!await connection.WaitAsync(IdleCheckAfter, stoppingToken).ConfigureAwait(false))
                        {
                            var check = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = (int)IdleCheckTimeout.TotalSeconds };
                            await using (check.ConfigureAwait(false))
                            {
                                await check.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                            }
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                _firstAttempt.TrySetResult();
                var delay = TimeSpan.FromMilliseconds(Math.Min(MaxReconnectDelay.TotalMilliseconds, 100 * Math.Pow(2, failures++)));
                Log.ListenFailed(logger, exception, channel, delay);
                try
                {
                    await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Opens the listening connection. Npgsql does not stop a connection attempt when asked to, so the wait
    /// is cut short on stop and a connection that opens afterwards is closed.</summary>
    private async Task<NpgsqlConnection> OpenAsync(CancellationToken stoppingToken)
    {
        var opening = dataSource.OpenConnectionAsync(stoppingToken).AsTask();
        try
        {
            return await opening.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _ = opening.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    private void Dispatch(string payload)
    {
        if (payload.Length < 3 || payload[1] != ':')
        {
            return;
        }

        foreach (var listener in Listeners())
        {
            if (payload[0] == 'a')
            {
                listener.OnJobsAvailable(payload[2..]);
            }
            else if (payload[0] == 's' && payload.LastIndexOf(':') is var colon and > 2
                && long.TryParse(payload.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var dueInMs))
            {
                listener.OnJobsScheduled(payload[2..colon], TimeSpan.FromMilliseconds(dueInMs));
            }
            else if (payload[0] == 'c' && long.TryParse(payload.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                listener.OnCancelRequested(new JobId(id));
            }
        }
    }

    /// <summary>After a gap in listening, hints every queue, since notifications may have been missed.</summary>
    private void WakeAll()
    {
        foreach (var listener in Listeners())
        {
            listener.OnJobsAvailable(string.Empty);
        }
    }

    private IJobStoreListener[] Listeners()
    {
        lock (_lock)
        {
            return [.. _listeners];
        }
    }

    private sealed class Subscription(PostgresNotifier notifier, IJobStoreListener listener) : IDisposable
    {
        public void Dispose()
        {
            lock (notifier._lock)
            {
                notifier._listeners.Remove(listener);
            }
        }
    }
}
