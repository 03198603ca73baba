using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Diagnostics;

/// <summary>Log events of cron schedules: ids 40 to 49.</summary>
internal static partial class Log
{
    [LoggerMessage(40, LogLevel.Information, "Schedule {Name} ({Expression}, {TimeZone}) registered; next run at {NextRunAt}")]
    public static partial void ScheduleRegistered(ILogger logger, string name, string expression, string timeZone, DateTimeOffset? nextRunAt);

    [LoggerMessage(41, LogLevel.Debug, "Schedule {Name} enqueued {Count} jobs for its occurrences up to {LastOccurrence}; next run at {NextRunAt}")]
    public static partial void ScheduleFired(ILogger logger, string name, int count, DateTimeOffset lastOccurrence, DateTimeOffset? nextRunAt);

    [LoggerMessage(42, LogLevel.Warning, "Schedule {Name} missed its occurrences from {FirstMissed} to before {Cutoff} (more than the misfire threshold late); misfire policy Skip: they are not run")]
    public static partial void ScheduleMisfireSkipped(ILogger logger, string name, DateTimeOffset firstMissed, DateTimeOffset cutoff);

    [LoggerMessage(43, LogLevel.Warning, "Schedule {Name} missed its occurrences from {FirstMissed} to before {Cutoff} (more than the misfire threshold late); misfire policy RunOnce: they run once, as one job")]
    public static partial void ScheduleMisfireRunOnce(ILogger logger, string name, DateTimeOffset firstMissed, DateTimeOffset cutoff);

    [LoggerMessage(44, LogLevel.Debug, "Schedule {Name} at {NextRunAt} was fired, changed, paused or deleted elsewhere meanwhile; this node leaves it")]
    public static partial void ScheduleFireLost(ILogger logger, string name, DateTimeOffset nextRunAt);

    [LoggerMessage(45, LogLevel.Error, "Schedule {Name} could not enqueue the jobs of its occurrence {NextRunAt}; it is tried again within {Delay}")]
    public static partial void ScheduleFireFailed(ILogger logger, Exception exception, string name, DateTimeOffset nextRunAt, TimeSpan delay);

    [LoggerMessage(46, LogLevel.Error, "Schedule {Name} cannot be evaluated on this node and does not fire until it is fixed: {Reason}")]
    public static partial void ScheduleInvalid(ILogger logger, string name, string reason);

    [LoggerMessage(47, LogLevel.Error, "Looking for due schedules failed; looking again in {Delay}")]
    public static partial void SchedulerFailed(ILogger logger, Exception exception, TimeSpan delay);
}
