using System.Globalization;
using Forge.Jobs.Serialization;

namespace Forge.Jobs.Client;

/// <summary>The rule for <see cref="JobOptions.IdempotencyKey"/>. A key is opaque and compared exactly, so it is
/// stored verbatim through parameters: only its length is bounded, and only what PostgreSQL text cannot hold (NUL, half
/// of a surrogate pair) is refused.</summary>
internal static class IdempotencyKeys
{
    public const int MaxLength = 255;

    public static bool IsValid(string key) => key.Length is > 0 and <= MaxLength && StoredText.IsStorable(key);

    public static string Describe(string key) =>
        string.Create(CultureInfo.InvariantCulture, $"Idempotency key '{StoredText.Show(key)}' ({key.Length} characters) is not valid: use 1 to {MaxLength} characters with no NUL character (\\u0000) and no half of a surrogate pair, which PostgreSQL cannot store, for example \"order-42:confirmation\"; any other text is kept exactly as given.");
}
