using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Forge.Jobs.Serialization;

/// <summary>Derives the stored name of a job type: <see cref="JobTypeAttribute"/> if present, else the class
/// name in snake_case. Cached per type, so enqueue pays for reflection once.</summary>
internal static partial class JobTypeNames
{
    public const int MaxLength = 128;

    public static string For<TJob>() => Cache<TJob>.Name;

    // An attribute given null names no type: it yields the empty name, which the rule rejects, rather than the class name.
    private static string Derive(Type type) =>
        type.GetCustomAttribute<JobTypeAttribute>(inherit: false) is { } attribute ? attribute.Name ?? "" : ToSnakeCase(type.Name);

    public static bool IsValid(string? name) => name is { Length: > 0 and <= MaxLength } && ValidName().IsMatch(name);

    public static string Describe(string? name) =>
        $"Job type name '{StoredText.Show(name)}' is not valid: use 1 to {MaxLength} letters, digits, '_', '-', '.' or ':', for example [JobType(\"send_email\")].";

    internal static string ToSnakeCase(string name)
    {
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        var span = tick < 0 ? name.AsSpan() : name.AsSpan(0, tick);
        var builder = new StringBuilder(span.Length + 8);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (char.IsUpper(c))
            {
                var previousIsLower = i > 0 && (char.IsLower(span[i - 1]) || char.IsDigit(span[i - 1]));
                var nextIsLower = i + 1 < span.Length && char.IsLower(span[i + 1]);
                if (i > 0 && (previousIsLower || (nextIsLower && char.IsUpper(span[i - 1]))))
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    [GeneratedRegex("^[A-Za-z0-9_.:-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();

    private static class Cache<TJob>
    {
        public static readonly string Name = Derive(typeof(TJob));
    }
}
