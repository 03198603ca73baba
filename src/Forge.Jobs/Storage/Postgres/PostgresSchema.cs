using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>The store's SQL, read from the embedded .sql files once per schema with the validated, quoted schema
/// name in place of <c>{schema}</c>. Identifiers never reach SQL any other way.</summary>
internal static partial class PostgresSchema
{
    private static readonly ConcurrentDictionary<string, string> Files = new(StringComparer.Ordinal);

    public static bool IsValid(string? schema) => schema is not null && ValidSchema().IsMatch(schema);

    public static string Describe(string? schema) =>
        $"PostgresStoreOptions.Schema '{Serialization.StoredText.Show(schema)}' is not valid: use lower-case letters, digits and '_', starting with a letter or '_', at most 58 characters (the notification channel adds \".jobs\"), for example \"forge\".";

    /// <exception cref="ArgumentException"><paramref name="schema"/> is not a valid schema name.</exception>
    public static string Quote(string schema) =>
        IsValid(schema) ? $"\"{schema}\"" : throw new ArgumentException(Describe(schema), nameof(schema));

    public static string Sql(string file, string quotedSchema) => Read(file).Replace("{schema}", quotedSchema, StringComparison.Ordinal);

    public static IEnumerable<(int Version, string Name)> Migrations() =>
        typeof(PostgresSchema).Assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith("Forge.Jobs.Migrations/", StringComparison.Ordinal))
            .Select(name => name["Forge.Jobs.Migrations/".Length..^".sql".Length])
            .Select(name => (int.Parse(name[..4], System.Globalization.CultureInfo.InvariantCulture), name))
            .OrderBy(m => m.Item1);

    public static string MigrationSql(string name, string quotedSchema) => Sql($"Migrations/{name}", quotedSchema);

    private static string Read(string file) => Files.GetOrAdd(file, static f =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Forge.Jobs.{f}.sql")
            ?? throw new InvalidOperationException($"Embedded SQL '{f}' is missing from Forge.Jobs.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,57}$", RegexOptions.CultureInvariant)]
    private static partial Regex ValidSchema();
}
