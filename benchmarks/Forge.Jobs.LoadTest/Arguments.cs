using System.Globalization;

namespace Forge.Jobs.LoadTest;

/// <summary>The command line: a mode, then <c>--name value</c> options and <c>--flag</c> switches.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private Arguments(string mode) => Mode = mode;

    public string Mode { get; }

    public static Arguments Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-'))
        {
            throw new UsageException("Name a mode first: drain, enqueue, latency or sustained.");
        }

        var parsed = new Arguments(args[0]);
        for (var i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"Unexpected argument '{args[i]}'. Options are written --name value.");
            }

            var name = args[i][2..];
            var value = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            parsed._options[name] = value;
        }

        return parsed;
    }

    public string? Text(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var value) ? value ?? throw new UsageException($"--{name} needs a value.") : null;
    }

    public bool Flag(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var value) && value is null or "true";
    }

    public int Int(string name, int fallback, int min = 1)
    {
        var text = Text(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min)
        {
            throw new UsageException($"--{name} must be a whole number of at least {min}; got '{text}'.");
        }

        return value;
    }

    /// <summary>Fails on an option that no part of the chosen mode read, so a typo is not silently ignored.</summary>
    public void RejectUnread()
    {
        var unknown = _options.Keys.Where(name => !_read.Contains(name)).ToList();
        if (unknown.Count > 0)
        {
            throw new UsageException($"Mode '{Mode}' does not take {string.Join(", ", unknown.Select(n => "--" + n))}.");
        }
    }
}

internal sealed class UsageException(string message) : Exception(message);
