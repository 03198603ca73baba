using System.Globalization;
using System.Text.RegularExpressions;

namespace Forge.Jobs.Scheduling;

/// <summary>Schedule names, and the idempotency key of each occurrence's job.</summary>
internal static partial class ScheduleNames
{
    public const int MaxLength = 128;

    public static bool IsValid(string? name) => name is { Length: > 0 and <= MaxLength } && ValidName().IsMatch(name);

    public static string Describe(string? name) =>
        $"Schedule name '{Serialization.StoredText.Show(name)}' is not valid: use 1 to {MaxLength} letters, digits, '_', '-', '.' or ':', for example \"daily-digest\" or \"billing:invoices\".";

    /// <exception cref="ArgumentException">The name is not valid; the message quotes it.</exception>
    public static string Validate(string? name, string parameterName) =>
        IsValid(name) ? name! : throw new ArgumentException(Describe(name), parameterName);

    /// <summary><c>schedule:{name}:{occurrence in UTC, ISO 8601 round-trip}</c>, for example
    /// <c>schedule:daily-digest:2030-01-01T07:00:00.0000000Z</c>: at most 166 characters.</summary>
    public static string OccurrenceKey(string name, DateTimeOffset occurrence) =>
        $"schedule:{name}:{occurrence.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}";

    [GeneratedRegex("^[A-Za-z0-9_.:-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();
}
