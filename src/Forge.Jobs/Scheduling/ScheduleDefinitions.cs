using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Scheduling;

/// <summary>Checks a schedule's registration and resolves it, with its job type's defaults, into the definition
/// to store. Every rejection is an <see cref="ArgumentException"/> that quotes the bad value.</summary>
internal static class ScheduleDefinitions
{
    /// <summary>The checks that need no serializer, made where the schedule is registered.</summary>
    public static void Validate(string name, string cronExpression, ScheduleOptions options)
    {
        ScheduleNames.Validate(name, nameof(name));
        CronExpressions.Parse(cronExpression, nameof(cronExpression));
        if (CronExpressions.ValidateZone(options.TimeZone) is { } zoneError)
        {
            throw new ArgumentException($"Schedule '{name}': {zoneError}", nameof(options));
        }

        if (!Enum.IsDefined(options.Misfire))
        {
            throw new ArgumentException($"Schedule '{name}': ScheduleOptions.Misfire is {(int)options.Misfire}; use MisfirePolicy.Skip or MisfirePolicy.RunOnce.", nameof(options));
        }

        if (options.Job is { } job)
        {
            var refused = job.Delay is not null ? "Delay"
                : job.RunAt is not null ? "RunAt"
                : job.IdempotencyKey is not null ? "IdempotencyKey"
                : job.DependsOn is not null ? "DependsOn"
                : null;
            if (refused is not null)
            {
                throw new ArgumentException(
                    $"Schedule '{name}': ScheduleOptions.Job sets {refused}, which cannot apply to a recurring job: each occurrence's job is due when it occurs, and its idempotency key is schedule:{{name}}:{{occurrence}}. Leave Delay, RunAt, IdempotencyKey and DependsOn unset; Queue, Priority, MaxRetries, Timeout, Backoff and Tags apply.",
                    nameof(options));
            }

            NewJobs.Validate(job);
        }
    }

    /// <exception cref="ArgumentException">Something is not valid; the message quotes it.</exception>
    public static ScheduleDefinition Create<TJob>(string name, string cronExpression, TJob job, ScheduleOptions options, JobTypeRegistry registry)
    {
        Validate(name, cronExpression, options);
        var row = NewJobs.Create(job, options.Job, registry);
        return new ScheduleDefinition(
            name,
            cronExpression.Trim(),
            options.TimeZone.Id,
            options.Misfire,
            row.Type,
            row.Queue,
            row.Payload,
            row.Priority,
            row.MaxRetries,
            row.Timeout,
            row.Tags,
            row.Backoff);
    }

    /// <summary>The first occurrence after <paramref name="now"/>: the cursor of a new schedule, or of one whose
    /// expression or time zone changed, or that resumes.</summary>
    public static DateTimeOffset? FirstRunAfter(ScheduleDefinition definition, DateTimeOffset now)
    {
        var cron = CronExpressions.Parse(definition.Expression, "cronExpression");
        if (!CronExpressions.TryFindZone(definition.TimeZone, out var zone))
        {
            throw new InvalidOperationException($"Schedule '{definition.Name}': time zone '{definition.TimeZone}' is not a system time zone on this node.");
        }

        return cron.GetNextOccurrence(now, zone)?.ToUniversalTime();
    }
}
