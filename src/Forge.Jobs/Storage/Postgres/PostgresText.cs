using System.Text;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>Makes text that PostgreSQL would refuse storable, so one odd error message or result cannot fail a
/// whole batch of outcomes: text columns refuse NUL characters, jsonb refuses the <c>\u0000</c> escape, and
/// neither can hold half of a surrogate pair. Each becomes U+FFFD.</summary>
internal static class PostgresText
{
    public static string Clean(string text)
    {
        if (IsClean(text))
        {
            return text;
        }

        var clean = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                clean.Append(c).Append(text[++i]);
            }
            else
            {
                clean.Append(c == '\0' || char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }

        return clean.ToString();
    }

    public static string CleanJson(string json) =>
        Clean(json.Contains("\\u0000", StringComparison.OrdinalIgnoreCase)
            ? json.Replace("\\u0000", "\\uFFFD", StringComparison.OrdinalIgnoreCase)
            : json);

    private static bool IsClean(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0' || (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[++i]))))
            {
                return false;
            }
        }

        return true;
    }
}
