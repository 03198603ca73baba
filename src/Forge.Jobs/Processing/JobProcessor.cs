using Forge.Jobs.Diagnostics;
using Forge.Jobs.Leadership;
using Forge.Jobs.Maintenance;
using Forge.Jobs.Retry;
using Forge.Jobs.Scheduling;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Processing;

/// <summary>The node: wires fetcher → queue channels → executors → completer, with the lease keeper and the
/// rescuer beside them, and owns their start, drain and shutdown. Shutdown stops claiming first, lets running
/// jobs finish within <see cref="ForgeJobsOptions.ShutdownTimeout"/>, then cancels the rest and hands them and
/// every claimed-but-unstarted job back to the queue, so another node can start them at once.</summary>
internal sealed class JobProcessor : IHostedService, IJobNode, IJobStoreListener, IDisposable
{
    private static readonly TimeSpan CancelGrace = JobExecutor.StopGrace + TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(2);

    private readonly IJobStore _store;
    private readonly ForgeJobsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<string, QueueRunner> _queues = new(StringComparer.Ordinal);
    private readonly RunningJobs _running = new();
    private readonly HeldJobs _held = new();
    private readonly JobExecutor _executor;
    private readonly JobFetcher _fetcher;
    private readonly JobCompleter _completer;
    private readonly LeaseKeeper _leaseKeeper;
    private readonly JobRescuer _rescuer;
    private readonly LeaderElection _leadership;
    private readonly HeartbeatSender _heartbeat;
    private readonly JobPruner _pruner;
    private readonly ClusterSampler _sampler;
    private readonly QueueControl _queueControl;
    private readonly CronScheduler _scheduler;
    private readonly CancellationTokenSource _stopClaiming = new();
    private readonly CancellationTokenSource _stopMaintenance = new();
    private readonly CancellationTokenSource _abortCompletions = new();
    private Task _fetching = Task.CompletedTask;
    private Task _completing = Task.CompletedTask;
    private Task _maintaining = Task.CompletedTask;
    private IDisposable? _subscription;
    private int _disposed;

    public JobProcessor(
        IJobStore store,
        JobTypeRegistry registry,
        RetryPolicy retryPolicy,
        IOptions<ForgeJobsOptions> options,
        IServiceProvider services,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        QueueControl queueControl,
        CronContext cron,
        ForgeJobsMetrics metrics)
    {
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = loggerFactory.CreateLogger("Forge.Jobs.Processing");
        _leaseKeeper = new LeaseKeeper(store, _running, _options, time, _logger);
        _executor = new JobExecutor(services, registry, retryPolicy, _running, new AttemptServices(_leaseKeeper, store, registry.Serializer), metrics, time, loggerFactory);
        _completer = new JobCompleter(store, _held, _options, metrics, time, _logger, OutcomesStored);
        _leadership = new LeaderElection(store, _options, time, _logger) { Elected = cron.Signal };
        _rescuer = new JobRescuer(store, retryPolicy, _leadership, metrics, _options, time, _logger);
        _pruner = new JobPruner(store, _leadership, _options, time, _logger);
        _scheduler = new CronScheduler(store, () => _leadership.IsLeader, cron, registry, _options, loggerFactory.CreateLogger("Forge.Jobs.Scheduling"), metrics);
        foreach (var queue in registry.Queues)
        {
            _queues.Add(queue.Name, new QueueRunner(queue, RunAsync, SlotFreed));
        }

        _sampler = new ClusterSampler(store, _leadership, _options, time, _logger);
        metrics.ObserveRunning(() => _running.Count);
        metrics.ObserveCluster(() => _sampler.Latest);
        _fetcher = new JobFetcher(store, _queues, _held, Release, _options, time, _logger);
        _queueControl = queueControl;
        queueControl.Attach(_queues, SlotFreed, _logger);
        _heartbeat = new HeartbeatSender(store, [.. _queues.Keys], () => IsDraining, () => _ = DrainAsync(), queueControl, _options, time, _logger);
    }

    public string NodeId => _options.NodeId;

    public bool IsDraining => _stopClaiming.IsCancellationRequested;

    /// <summary>Whether the node has started and its claim loop still runs (it ends at a drain or a stop).</summary>
    public bool IsRunning => _subscription is not null && !_fetching.IsCompleted;

    internal NodeLoad Load => new(_queues.Values.Sum(q => q.Held), _running.Count, _completer.Queued);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_store is InMemoryJobStore)
        {
            Log.InMemoryStore(_logger);
        }

        await _store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        _subscription = await _store.SubscribeAsync(this, cancellationToken).ConfigureAwait(false);
        await _heartbeat.RegisterAsync(cancellationToken).ConfigureAwait(false);
        await _scheduler.RegisterAsync(cancellationToken).ConfigureAwait(false);
        await _leadership.RenewAsync(cancellationToken).ConfigureAwait(false);
        foreach (var queue in _queues.Values)
        {
            queue.Start();
        }

        _completing = Task.Run(() => _completer.RunAsync(_abortCompletions.Token), CancellationToken.None);
        _fetching = Task.Run(() => _fetcher.RunAsync(_stopClaiming.Token), CancellationToken.None);
        // These two start on this thread rather than the pool, so that their timers are armed when the node reports
        // started: leadership is judged on the node's clock, and a renewal timer armed late (after that clock moved on
        // by more than a lease, as a test's fake clock can) would leave the node believing it does not lead.
        var leading = _leadership.RunAsync(_stopMaintenance.Token);
        var scheduling = _scheduler.RunAsync(_stopMaintenance.Token);
        _maintaining = Task.WhenAll(
            Task.Run(() => _leaseKeeper.RunAsync(_stopMaintenance.Token), CancellationToken.None),
            Task.Run(() => _heartbeat.RunAsync(_stopMaintenance.Token), CancellationToken.None),
            leading,
            Task.Run(() => _rescuer.RunAsync(_stopMaintenance.Token), CancellationToken.None),
            Task.Run(() => _pruner.RunAsync(_stopMaintenance.Token), CancellationToken.None),
            Task.Run(() => _sampler.RunAsync(_stopMaintenance.Token), CancellationToken.None),
            scheduling);
        Log.NodeStarted(_logger, NodeId, string.Join(", ", _queues.Values.Select(q => $"{q.Name} ({q.Concurrency})")));
    }

    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        Log.Draining(_logger, NodeId);
        await StopClaimingAsync().ConfigureAwait(false);
        foreach (var queue in _queues.Values)
        {
            queue.Complete();
        }

        await Task.WhenAll(_queues.Values.Select(q => q.Executors)).WaitAsync(cancellationToken).ConfigureAwait(false);
        await CloseCompleterAsync().ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await StopClaimingAsync().ConfigureAwait(false);
        foreach (var queue in _queues.Values)
        {
            queue.StopTaking();
        }

        foreach (var job in _queues.Values.SelectMany(q => q.TakeUnstarted()))
        {
            Release(job);
        }

        var executors = Task.WhenAll(_queues.Values.Select(q => q.Executors));
        try
        {
            await executors.WaitAsync(_options.ShutdownTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            Log.ShutdownCancelling(_logger, _options.ShutdownTimeout, _running.Count);
            _running.StopAll(StopReason.Shutdown);
            await WhenAnyWithinAsync(executors, CancelGrace).ConfigureAwait(false);
        }

        await CloseCompleterAsync().ConfigureAwait(false);
        await _stopMaintenance.CancelAsync().ConfigureAwait(false);
        await _maintaining.ConfigureAwait(false);
        await LeaveClusterAsync().ConfigureAwait(false);
        _subscription?.Dispose();
        Log.NodeStopped(_logger, NodeId);
    }

    public void OnJobsAvailable(string queue)
    {
        if (queue.Length == 0 || _queues.ContainsKey(queue))
        {
            _fetcher.JobsAvailable(queue);
        }
    }

    public void OnJobsScheduled(string queue, TimeSpan dueIn)
    {
        if (_queues.ContainsKey(queue))
        {
            _fetcher.WakeAt(queue, _time.GetUtcNow() + dueIn);
        }
    }

    public void OnCancelRequested(JobId id) => _running.Stop(id, StopReason.Cancelled);

    /// <returns>Whether <paramref name="task"/> completed within <paramref name="limit"/>.</returns>
    private async Task<bool> WhenAnyWithinAsync(Task task, TimeSpan limit)
    {
        using var timer = new CancellationTokenSource();
        var delay = Task.Delay(limit, _time, timer.Token);
        var first = await Task.WhenAny(task, delay).ConfigureAwait(false);
        await timer.CancelAsync().ConfigureAwait(false);
        return first == task;
    }

    /// <summary>Ends every loop even when the node was never stopped; safe to call more than once (the container
    /// disposes it once per service it is registered as).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _stopClaiming.Cancel();
        _stopMaintenance.Cancel();
        _subscription?.Dispose();
        _stopClaiming.Dispose();
        _stopMaintenance.Dispose();
        _abortCompletions.Dispose();
    }

    private async Task RunAsync(ClaimedJob job)
    {
        try
        {
            if (await _executor.RunAsync(job).ConfigureAwait(false) is not { } completion)
            {
                // The handler stored its success in its own transaction.
                _held.Remove(job.Id, job.Attempt);
            }
            else
            {
                if (completion.Outcome == CompletionOutcome.Retry)
                {
                    // The store reports the retry's run-at only once the completer has written it; this node knows it now.
                    _fetcher.WakeAt(job.Queue, _time.GetUtcNow() + completion.RetryDelay);
                }

                _completer.Enqueue(completion);
            }
        }
        catch (Exception exception)
        {
            // The executor turns every handler outcome into a completion; reaching here is a bug in the engine.
            // The executor loop must survive it: the job's lease lapses and the rescuer retries it (or the node hands
            // it back first, should it look for leases it does not know of).
            _held.Remove(job.Id, job.Attempt);
            Log.ExecutorFailed(_logger, exception, job.Id, job.Attempt);
        }
    }

    private void SlotFreed() => _fetcher.Wake.Set();

    /// <summary>Jobs of a queue with a global limit count against it until their outcome is stored, so the slot that
    /// one of them freed may only be usable now.</summary>
    private void OutcomesStored()
    {
        foreach (var queue in _queueControl.LimitedQueues)
        {
            _fetcher.JobsAvailable(queue);
        }
    }

    private void Release(ClaimedJob job) => _completer.Enqueue(new Completion(
        job.Id, job.LeaseOwner, job.Attempt, CompletionOutcome.Released, Error: $"Released unstarted by the shutdown of node {job.LeaseOwner}."));

    private async Task StopClaimingAsync()
    {
        await _stopClaiming.CancelAsync().ConfigureAwait(false);
        await _fetching.ConfigureAwait(false);
    }

    /// <summary>Resigns leadership and removes the node's row, so that another node leads at once and the node
    /// list shows only live nodes. Best effort: if the store is unreachable, both lapse on their own.</summary>
    private async Task LeaveClusterAsync()
    {
        using var timeout = new CancellationTokenSource(LeaveTimeout, _time);
        try
        {
            await _leadership.ResignAsync(timeout.Token).ConfigureAwait(false);
            await _store.RemoveNodeAsync(NodeId, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.LeaveFailed(_logger, exception, NodeId);
        }
    }

    private async Task CloseCompleterAsync()
    {
        _completer.Complete();
        if (!await WhenAnyWithinAsync(_completing, FlushTimeout).ConfigureAwait(false))
        {
            await _abortCompletions.CancelAsync().ConfigureAwait(false);
        }

        await _completing.ConfigureAwait(false);
    }
}
