using System.Text;
using Forge.Jobs.Diagnostics;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Scheduling;

/// <summary>Enqueues the jobs of cron schedules. Each pass reads now from the store's clock (the database's, shared by
/// every node, so a leader whose own clock is minutes off enqueues neither early nor late), lists the schedules whose
/// cursor is due by it, works out with Cronos which occurrences up to it each covers (applying its misfire policy), and
/// fires it: a compare-and-set of the cursor in the transaction that inserts the jobs, each job keyed
/// <c>schedule:{name}:{occurrence}</c>. Only the leader passes, but nothing depends on that: two nodes that both
/// believe they lead race on the compare-and-set, and at most one wins each occurrence. Between passes it sleeps
/// until the earliest next run, at most <see cref="MaxSleep"/> (so that schedules changed by other processes are
/// seen), and wakes early when this process's client changes a schedule or this node becomes the leader. The node's
/// own clock only times that sleep, as a duration from the pass's reading of the store's clock.</summary>
internal sealed class CronScheduler(
    IJobStore store,
    Func<bool> isLeader,
    CronContext cron,
    JobTypeRegistry registry,
    ForgeJobsOptions options,
    ILogger logger,
    Diagnostics.ForgeJobsMetrics? metrics = null)
{
    public const int PageSize = 100;

    /// <summary>The most occurrences one fire covers, so that a schedule every second with a long misfire threshold
    /// does not insert a day of jobs in one transaction; the rest follow in the next passes, at once.</summary>
    public const int MaxOccurrencesPerFire = 1_000;

    /// <summary>How late a timer may be armed before it is armed again (see <see cref="SleepAsync"/>).</summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(10);

    private readonly Dictionary<string, string> _reportedInvalid = new(StringComparer.Ordinal);

    private TimeProvider Time => cron.Time;

    /// <summary>The longest sleep between passes, which bounds how late the leader sees a schedule that another process
    /// created or changed: <see cref="ForgeJobsOptions.PollInterval"/>, but at most half the misfire threshold, so that
    /// a new schedule's first occurrence cannot be missed for want of looking.</summary>
    private TimeSpan MaxSleep => options.PollInterval < options.MisfireThreshold / 2 ? options.PollInterval : options.MisfireThreshold / 2;

    /// <summary>Stores the schedules registered in code with <c>AddRecurring</c>. A schedule that is stored already
    /// gets the new definition and keeps its pause, and its cursor unless the expression or time zone changed.</summary>
    public async Task RegisterAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset? now = null;
        foreach (var registration in options.Schedules)
        {
            var definition = registration.Resolve(registry);
            now ??= await store.GetTimeAsync(cancellationToken).ConfigureAwait(false);
            var next = ScheduleDefinitions.FirstRunAfter(definition, now.Value);
            var stored = await store.UpsertScheduleAsync(definition, next, cancellationToken).ConfigureAwait(false);
            Log.ScheduleRegistered(logger, definition.Name, definition.Expression, definition.TimeZone, stored.NextRunAt);
        }

        if (options.Schedules.Count > 0)
        {
            cron.Signal();
        }
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Read before the pass, so that a change signalled during it ends the sleep after it.
                var changed = cron.Changed;
                var wakeAt = Time.GetUtcNow() + MaxSleep;
                if (isLeader())
                {
                    try
                    {
                        wakeAt = await PassAsync(stoppingToken).ConfigureAwait(false);
                    }
                    catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        Log.SchedulerFailed(logger, exception, MaxSleep);
                        wakeAt = Time.GetUtcNow() + MaxSleep;
                    }
                }

                await SleepAsync(wakeAt, changed, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Fires every schedule due on the store's clock once.</summary>
    /// <returns>When to pass again, on this node's clock: when the earliest next run is due, at most
    /// <see cref="MaxSleep"/> away; at once when a schedule is still due because its fire was capped at
    /// <see cref="MaxOccurrencesPerFire"/>.</returns>
    public async Task<DateTimeOffset> PassAsync(CancellationToken cancellationToken)
    {
        var now = await store.GetTimeAsync(cancellationToken).ConfigureAwait(false);

        // Read after the store's clock, so that the wake-up computed from the two errs late (by the round trip), not early.
        var nodeNow = Time.GetUtcNow();
        var again = now + MaxSleep;
        string? after = null;
        while (true)
        {
            var due = await store.ListDueSchedulesAsync(now, after, PageSize, cancellationToken).ConfigureAwait(false);
            foreach (var schedule in due)
            {
                if (await FireAsync(schedule, now, cancellationToken).ConfigureAwait(false) is { } next && next <= now)
                {
                    again = now;
                }
            }

            if (due.Count < PageSize)
            {
                break;
            }

            after = due[^1].Definition.Name;
        }

        var earliest = await store.GetNextScheduleRunAsync(now, cancellationToken).ConfigureAwait(false);
        return nodeNow + ((earliest < again ? earliest.Value : again) - now);
    }

    /// <returns>The schedule's new cursor when this node fired it, else <see langword="null"/>.</returns>
    private async Task<DateTimeOffset?> FireAsync(ScheduleRecord schedule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var definition = schedule.Definition;
        var cursor = schedule.NextRunAt!.Value;
        if (!TryEvaluate(definition, out var expression, out var zone))
        {
            return null;
        }

        var threshold = options.MisfireThreshold;
        var plan = CronPlanner.Plan(expression, zone, definition.Misfire, cursor, now, threshold, MaxOccurrencesPerFire);
        var jobs = new List<NewJob>(plan.Occurrences.Count);
        var maxLength = registry.MaxLengthOf(definition.Queue);
        var payloadBytes = Encoding.UTF8.GetByteCount(definition.Payload);
        foreach (var occurrence in plan.Occurrences)
        {
            jobs.Add(new NewJob(
                definition.Type, definition.Queue, definition.Payload, payloadBytes, definition.Priority, definition.MaxRetries, definition.Timeout,
                RunAt: null, Delay: TimeSpan.Zero, ScheduleNames.OccurrenceKey(definition.Name, occurrence), definition.Tags, definition.Backoff, maxLength));
        }

        var lastRunAt = plan.Occurrences.Count > 0 ? plan.Occurrences[^1] : (DateTimeOffset?)null;
        bool fired;
        try
        {
            fired = await store.FireScheduleAsync(
                new ScheduleFire(definition.Name, definition.Expression, definition.TimeZone, cursor, plan.NextRunAt, lastRunAt, jobs),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.ScheduleFireFailed(logger, exception, definition.Name, cursor, MaxSleep);
            return null;
        }

        if (!fired)
        {
            Log.ScheduleFireLost(logger, definition.Name, cursor);
            return null;
        }

        metrics?.Enqueued(jobs);

        if (plan.FirstMissed is { } firstMissed)
        {
            if (definition.Misfire == MisfirePolicy.RunOnce)
            {
                Log.ScheduleMisfireRunOnce(logger, definition.Name, firstMissed, now - threshold);
            }
            else
            {
                Log.ScheduleMisfireSkipped(logger, definition.Name, firstMissed, now - threshold);
            }
        }

        if (lastRunAt is { } last)
        {
            Log.ScheduleFired(logger, definition.Name, jobs.Count, last, plan.NextRunAt);
        }

        return plan.NextRunAt ?? DateTimeOffset.MaxValue;
    }

    /// <summary>Reads a stored schedule's expression and time zone; one that this node cannot read (changed in the
    /// database by hand, or a zone this node lacks) is reported once and left alone.</summary>
    private bool TryEvaluate(ScheduleDefinition definition, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Cronos.CronExpression? expression, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TimeZoneInfo? zone)
    {
        string error;
        if (!CronExpressions.TryParse(definition.Expression, out expression, out var parseError))
        {
            zone = null;
            error = parseError;
        }
        else if (!CronExpressions.TryFindZone(definition.TimeZone, out zone))
        {
            error = $"time zone '{definition.TimeZone}' is not a system time zone on this node.";
        }
        else
        {
            _reportedInvalid.Remove(definition.Name);
            return true;
        }

        var signature = definition.Expression + "\n" + definition.TimeZone;
        if (!_reportedInvalid.TryGetValue(definition.Name, out var reported) || reported != signature)
        {
            _reportedInvalid[definition.Name] = signature;
            Log.ScheduleInvalid(logger, definition.Name, error);
        }

        expression = null;
        return false;
    }

    /// <summary>Waits until <paramref name="wakeAt"/> on the node's clock, or until <paramref name="changed"/> completes.</summary>
    private async Task SleepAsync(DateTimeOffset wakeAt, Task changed, CancellationToken stoppingToken)
    {
        while (!changed.IsCompleted)
        {
            var now = Time.GetUtcNow();
            if (now >= wakeAt)
            {
                return;
            }

            using var timer = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var delay = Task.Delay(wakeAt - now, Time, timer.Token);

            // The timer counts from the moment it is armed. If the clock moved after it was read, the timer fires late
            // by as much; arm it again. A real clock moves by microseconds here; a test's fake clock moves in steps,
            // and a timer late by a step would never fire if the test waits for the occurrence before stepping again.
            if (Time.GetUtcNow() - now > TimerSlack)
            {
                await timer.CancelAsync().ConfigureAwait(false);
                continue;
            }

            await Task.WhenAny(delay, changed).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
            stoppingToken.ThrowIfCancellationRequested();
        }
    }
}
