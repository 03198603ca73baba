using System.Text.RegularExpressions;

namespace Forge.Jobs.Serialization;

/// <summary>The rule for queue names, wherever one is given: <c>AddQueue</c>, <see cref="JobTypeOptions.Queue"/>,
/// <see cref="JobOptions.Queue"/>, <see cref="JobQuery.Queue"/> and the queue-control calls of the client.</summary>
internal static partial class QueueNames
{
    public const int MaxLength = 64;

    public static bool IsValid(string? name) => name is { Length: > 0 and <= MaxLength } && ValidName().IsMatch(name);

    public static string Describe(string? name) =>
        $"Queue name '{StoredText.Show(name)}' is not valid: use lower-case letters and digits, words joined by '_' or '-', at most {MaxLength} characters, for example \"emails\" or \"video-encode\".";

    [GeneratedRegex("^[a-z0-9]+([_-][a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidName();
}
