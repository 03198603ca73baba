using System.Collections.Concurrent;
using Cronos;

namespace Forge.Jobs.Scheduling;

/// <summary>Reads cron expressions with Cronos: five fields (<see cref="CronFormat.Standard"/>), six fields with
/// seconds first (<see cref="CronFormat.IncludeSeconds"/>), chosen by the number of fields, or a Cronos macro
/// such as <c>@daily</c>. Also resolves the stored time zone ids.</summary>
internal static class CronExpressions
{
    public const string ExpectedForms =
        "use five fields (minute hour day-of-month month day-of-week, for example \"0 7 * * *\"), six fields with seconds first (for example \"30 0 7 * * *\"), or a macro such as \"@daily\" or \"@hourly\"";

    /// <summary>Any valid expression occurs after this instant: the search for a first occurrence starts here, so
    /// that whether an expression is accepted does not depend on the clock.</summary>
    private static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly ConcurrentDictionary<string, TimeZoneInfo> Zones = new(StringComparer.Ordinal);

    /// <exception cref="ArgumentException">The expression is not valid; the message quotes it and says the expected forms.</exception>
    public static CronExpression Parse(string? expression, string parameterName)
    {
        if (TryParse(expression, out var parsed, out var error))
        {
            return parsed;
        }

        throw new ArgumentException(error, parameterName);
    }

    public static bool TryParse(string? expression, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CronExpression? parsed, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(expression))
        {
            error = Describe(expression, "it is empty");
            return false;
        }

        var fields = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        CronFormat format;
        if (fields.Length == 1 && fields[0].StartsWith('@'))
        {
            format = CronFormat.Standard;
        }
        else if (fields.Length is 5 or 6)
        {
            format = fields.Length == 5 ? CronFormat.Standard : CronFormat.IncludeSeconds;
        }
        else
        {
            error = Describe(expression, $"it has {fields.Length} field{(fields.Length == 1 ? "" : "s")}");
            return false;
        }

        try
        {
            parsed = CronExpression.Parse(expression.Trim(), format);
        }
        catch (CronFormatException exception)
        {
            const string Prefix = "The given cron expression has an invalid format. ";
            var reason = exception.Message.StartsWith(Prefix, StringComparison.Ordinal) ? exception.Message[Prefix.Length..] : exception.Message;
            error = Describe(expression, reason.TrimEnd('.'));
            return false;
        }

        if (parsed.GetNextOccurrence(Epoch, TimeZoneInfo.Utc) is null)
        {
            parsed = null;
            error = Describe(expression, "it never occurs (no month has such a day)");
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>The first occurrence at or after <paramref name="from"/>. Cronos's own inclusive search misses an
    /// occurrence that daylight saving time moved to the end of a skipped hour (02:30 run at 03:00) when it starts at
    /// exactly that instant, so this searches from a second earlier, as an exclusive search from the occurrence before would.</summary>
    public static DateTimeOffset? NextAtOrAfter(CronExpression cron, DateTimeOffset from, TimeZoneInfo zone)
    {
        var next = cron.GetNextOccurrence(from.AddSeconds(-1), zone, inclusive: false);
        while (next is { } occurrence && occurrence < from)
        {
            next = cron.GetNextOccurrence(occurrence, zone, inclusive: false);
        }

        return next;
    }

    private static string Describe(string? expression, string reason) =>
        $"Cron expression '{Serialization.StoredText.Show(expression)}' is not valid: {reason}. Expected forms: {ExpectedForms}.";

    /// <summary>Checks that a time zone can be stored by its id: every node must find it again with
    /// <see cref="TimeZoneInfo.FindSystemTimeZoneById"/>.</summary>
    public static string? ValidateZone(TimeZoneInfo? zone)
    {
        if (zone is null)
        {
            return "ScheduleOptions.TimeZone is null; leave it unset for UTC, or use a system time zone such as TimeZoneInfo.FindSystemTimeZoneById(\"Europe/Berlin\").";
        }

        return TryFindZone(zone.Id, out var found) && found.HasSameRules(zone)
            ? null
            : $"ScheduleOptions.TimeZone '{zone.Id}' is not a system time zone: only its id is stored, and every node must find it with TimeZoneInfo.FindSystemTimeZoneById. Use a system time zone such as TimeZoneInfo.FindSystemTimeZoneById(\"Europe/Berlin\").";
    }

    /// <summary>The system time zone with this id, cached.</summary>
    public static bool TryFindZone(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TimeZoneInfo? zone)
    {
        if (Zones.TryGetValue(id, out zone))
        {
            return true;
        }

        try
        {
            zone = id == TimeZoneInfo.Utc.Id ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            zone = null;
            return false;
        }

        Zones.TryAdd(id, zone);
        return true;
    }
}
