using System.Security.Cryptography;

namespace Forge.Jobs.Serialization;

/// <summary>Node ids: the default one, and the rule every id follows. An id is stored verbatim (through parameters) as
/// the node's row, as lease owner and in attempt history.</summary>
internal static class NodeIds
{
    public const int MaxLength = 128;

    public static string CreateDefault()
    {
        var machine = Environment.MachineName.ToLowerInvariant();
        if (machine.Length > 40)
        {
            machine = machine[..40];
        }

        return $"{machine}-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}";
    }

    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= MaxLength }
        && !string.IsNullOrWhiteSpace(id)
        && !StoredText.HasControlCharacter(id)
        && !StoredText.HasUnpairedSurrogate(id);

    public static string Describe(string? id) =>
        $"Node id '{StoredText.Show(id)}' is not valid: use 1 to {MaxLength} characters, not only white space, with no control characters (such as tab, newline or NUL), for example \"web-1\"; any other text is kept as given.";
}
