using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Forge.Jobs;

/// <summary>The identity of a stored job. Ids grow with insertion order and are never reused.</summary>
/// <param name="Value">The numeric id as stored.</param>
[JsonConverter(typeof(JobIdJsonConverter))]
public readonly record struct JobId(long Value) : IComparable<JobId>, ISpanParsable<JobId>
{
    /// <inheritdoc />
    public int CompareTo(JobId other) => Value.CompareTo(other.Value);

    /// <summary>Whether <paramref name="left"/> was inserted before <paramref name="right"/>.</summary>
    public static bool operator <(JobId left, JobId right) => left.Value < right.Value;

    /// <summary>Whether <paramref name="left"/> was inserted after <paramref name="right"/>.</summary>
    public static bool operator >(JobId left, JobId right) => left.Value > right.Value;

    /// <summary>Whether <paramref name="left"/> is <paramref name="right"/> or was inserted before it.</summary>
    public static bool operator <=(JobId left, JobId right) => left.Value <= right.Value;

    /// <summary>Whether <paramref name="left"/> is <paramref name="right"/> or was inserted after it.</summary>
    public static bool operator >=(JobId left, JobId right) => left.Value >= right.Value;

    /// <summary>The id as its decimal digits, the form used in logs, URLs and JSON.</summary>
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses the decimal form produced by <see cref="ToString"/>.</summary>
    /// <exception cref="FormatException"><paramref name="s"/> is not a positive whole number.</exception>
    public static JobId Parse(string s) => Parse(s.AsSpan());

    /// <inheritdoc cref="Parse(string)"/>
    public static JobId Parse(ReadOnlySpan<char> s) =>
        TryParse(s, out var id)
            ? id
            : throw new FormatException($"'{s}' is not a job id: expected a positive whole number such as 42.");

    /// <summary>Parses the decimal form produced by <see cref="ToString"/>.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out JobId result)
    {
        if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            result = new JobId(value);
            return true;
        }

        result = default;
        return false;
    }

    /// <inheritdoc cref="TryParse(ReadOnlySpan{char}, out JobId)"/>
    public static bool TryParse(string? s, out JobId result) => TryParse(s.AsSpan(), out result);

    static JobId IParsable<JobId>.Parse(string s, IFormatProvider? provider) => Parse(s);

    static bool IParsable<JobId>.TryParse(string? s, IFormatProvider? provider, out JobId result) => TryParse(s, out result);

    static JobId ISpanParsable<JobId>.Parse(ReadOnlySpan<char> s, IFormatProvider? provider) => Parse(s);

    static bool ISpanParsable<JobId>.TryParse(ReadOnlySpan<char> s, IFormatProvider? provider, out JobId result) => TryParse(s, out result);
}

internal sealed class JobIdJsonConverter : JsonConverter<JobId>
{
    public override JobId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String
            ? JobId.Parse(reader.GetString()!)
            : new JobId(reader.GetInt64());

    public override void Write(Utf8JsonWriter writer, JobId value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.Value);
}
