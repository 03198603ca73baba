using System.Globalization;
using System.Text;

namespace Forge.Jobs.Serialization;

/// <summary>Checks shared by the rules for names and values that are stored as text, and the form in which a rejected
/// value is quoted in a message. PostgreSQL text cannot hold NUL or half of a surrogate pair, so no rule lets them
/// through; everything else a rule accepts reaches the store through parameters, exactly as given.</summary>
internal static class StoredText
{
    /// <summary>How much of a rejected value a message quotes.</summary>
    private const int MaxShown = 256;

    /// <summary>A C0 or C1 control character (NUL, tab, newline, escape, DEL, ...).</summary>
    public static bool HasControlCharacter(string text)
    {
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    public static bool HasUnpairedSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether PostgreSQL text can hold <paramref name="text"/> as it is.</summary>
    public static bool IsStorable(string text) => !text.Contains('\0', StringComparison.Ordinal) && !HasUnpairedSurrogate(text);

    /// <summary>The value as a message quotes it: control characters and unpaired surrogates written as <c>\uXXXX</c>,
    /// so that a message (or the log line it ends up in) shows them and cannot be split by them, and a long value cut
    /// after its first 256 characters.</summary>
    public static string Show(string? text)
    {
        if (text is null)
        {
            return "";
        }

        var shown = Math.Min(text.Length, MaxShown);
        var builder = new StringBuilder(shown + 32);
        for (var i = 0; i < shown; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (char.IsControl(c) || char.IsSurrogate(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        if (text.Length > shown)
        {
            builder.Append(CultureInfo.InvariantCulture, $"... ({text.Length} characters in all)");
        }

        return builder.ToString();
    }
}
