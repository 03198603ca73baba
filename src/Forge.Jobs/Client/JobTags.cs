using Forge.Jobs.Serialization;

namespace Forge.Jobs.Client;

/// <summary>The rule for <see cref="JobOptions.Tags"/> and <see cref="JobQuery.Tag"/>. A tag is a label people read and
/// search by, so it has no control characters and is not blank; any other text, SQL punctuation and Unicode
/// included, is stored verbatim through parameters.</summary>
internal static class JobTags
{
    public const int MaxCount = 16;
    public const int MaxLength = 64;

    public static bool IsValid(string? tag) =>
        tag is { Length: > 0 and <= MaxLength }
        && !string.IsNullOrWhiteSpace(tag)
        && !StoredText.HasControlCharacter(tag)
        && !StoredText.HasUnpairedSurrogate(tag);

    public static string Describe(string? tag) =>
        $"Tag '{StoredText.Show(tag)}' is not valid: use 1 to {MaxLength} characters, not only white space, with no control characters (such as tab, newline or NUL), for example \"customer:42\" or \"onboarding\"; any other text is kept as given.";
}
