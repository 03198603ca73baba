using Cronos;

namespace Forge.Jobs.Scheduling;

/// <summary>What one fire of a schedule covers: <see cref="Occurrences"/> each get a job (with
/// <see cref="MisfirePolicy.RunOnce"/>, the first of them stands for every missed occurrence); <see cref="FirstMissed"/>
/// is set when occurrences were missed; <see cref="NextRunAt"/> is the new cursor.</summary>
internal sealed record FirePlan(IReadOnlyList<DateTimeOffset> Occurrences, DateTimeOffset? FirstMissed, DateTimeOffset? NextRunAt);

/// <summary>Applies the misfire policy to the occurrences from a schedule's cursor up to now.</summary>
internal static class CronPlanner
{
    /// <param name="cron">The schedule's expression.</param>
    /// <param name="zone">The time zone it is read in.</param>
    /// <param name="misfire">What happens to missed occurrences.</param>
    /// <param name="cursor">The schedule's earliest unhandled occurrence, at or before <paramref name="now"/>.</param>
    /// <param name="now">Now, on the store's clock.</param>
    /// <param name="threshold">Occurrences more than this before <paramref name="now"/> are missed.</param>
    /// <param name="limit">The most occurrences one fire covers; the rest are left for the next fire.</param>
    public static FirePlan Plan(CronExpression cron, TimeZoneInfo zone, MisfirePolicy misfire, DateTimeOffset cursor, DateTimeOffset now, TimeSpan threshold, int limit)
    {
        var occurrences = new List<DateTimeOffset>();
        DateTimeOffset? firstMissed = null;
        DateTimeOffset? next = cursor;
        var cutoff = now - threshold;
        if (cursor < cutoff)
        {
            // Missed: every occurrence from the cursor to the cutoff. They are never enumerated (a schedule that
            // runs every second and was down for a month has millions); RunOnce runs them as one job, keyed by the
            // first of them, so that a node that saw that occurrence as on time would have used the same key.
            firstMissed = cursor;
            if (misfire == MisfirePolicy.RunOnce)
            {
                occurrences.Add(cursor);
            }

            next = CronExpressions.NextAtOrAfter(cron, cutoff, zone);
        }

        while (next is { } occurrence && occurrence <= now && occurrences.Count < limit)
        {
            occurrences.Add(occurrence);
            next = cron.GetNextOccurrence(occurrence, zone, inclusive: false);
        }

        return new FirePlan(occurrences, firstMissed, next?.ToUniversalTime());
    }
}
