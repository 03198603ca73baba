using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Processing;

/// <summary>The logger a handler gets as <see cref="JobContext.Logger"/>: every line goes on to the host's logging as
/// it would anyway, and lines of <see cref="MinLevel"/> and above are also kept for the attempt's history, whatever the
/// host's filters say (the history is a sink of its own). The bound keeps the first lines: a handler that logs in a loop
/// costs its history at most <see cref="MaxLines"/> lines and <see cref="MaxChars"/> characters, then only a count.
/// Nothing is allocated for the history until the handler logs a line that is kept. Thread-safe: a handler may log from
/// several threads at once.</summary>
internal sealed class AttemptLog(ILogger inner, TimeProvider time) : ILogger
{
    public const LogLevel MinLevel = LogLevel.Information;
    public const int MaxLines = 100;
    public const int MaxChars = 16 * 1024;

    private readonly Lock _lock = new();
    private List<JobLogLine>? _lines;
    private int _chars;
    private bool _cut;
    private int _dropped;
    private DateTimeOffset _lastDroppedAt;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => Keeps(logLevel) || inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        inner.Log(logLevel, eventId, state, exception, formatter);
        if (!Keeps(logLevel))
        {
            return;
        }

        var at = time.GetUtcNow();
        lock (_lock)
        {
            if (IsFull)
            {
                // A full history only counts: the handler pays no formatting for lines nobody keeps.
                _dropped++;
                _lastDroppedAt = at;
                return;
            }
        }

        ArgumentNullException.ThrowIfNull(formatter);
        var message = formatter(state, exception) ?? string.Empty;
        var error = exception?.ToString();
        lock (_lock)
        {
            Keep(new JobLogLine(at, logLevel, message, error));
        }
    }

    /// <summary>A copy of the lines kept so far, with a last line that tells what the bound left out, or
    /// <see langword="null"/> when there are none. A copy, because an abandoned handler may go on logging while the
    /// store serializes what it was given.</summary>
    public JobLogLine[]? ToLines()
    {
        lock (_lock)
        {
            if (_lines is null && _dropped == 0)
            {
                return null;
            }

            var kept = _lines?.Count ?? 0;
            var bounded = _cut || _dropped > 0;
            var lines = new JobLogLine[kept + (bounded ? 1 : 0)];
            _lines?.CopyTo(lines);
            if (bounded)
            {
                lines[kept] = new JobLogLine(_dropped > 0 ? _lastDroppedAt : lines[kept - 1].At, LogLevel.Warning, BoundMessage(), null);
            }

            return lines;
        }
    }

    private static bool Keeps(LogLevel level) => level is >= MinLevel and < LogLevel.None;

    private bool IsFull => _cut || _chars >= MaxChars || _lines?.Count >= MaxLines;

    // Called under _lock. A line longer than what is left of MaxChars is cut to fit, and fills the history.
    private void Keep(JobLogLine line)
    {
        if (IsFull)
        {
            _dropped++;
            _lastDroppedAt = line.At;
            return;
        }

        var left = MaxChars - _chars;
        var length = line.Message.Length + (line.Exception?.Length ?? 0);
        if (length > left)
        {
            var message = Cut(line.Message, left);
            line = line with { Message = message, Exception = line.Exception is null ? null : Cut(line.Exception, left - message.Length) };
            length = left;
            _cut = true;
        }

        _chars += length;
        (_lines ??= new List<JobLogLine>(4)).Add(line);
    }

    private string BoundMessage()
    {
        var bound = string.Create(CultureInfo.InvariantCulture, $"The history keeps at most {MaxLines} lines and {MaxChars} characters of an attempt's log");
        var cut = _cut ? "; the last line kept was cut" : string.Empty;
        var dropped = _dropped switch
        {
            0 => string.Empty,
            1 => "; 1 later line was dropped",
            _ => string.Create(CultureInfo.InvariantCulture, $"; {_dropped} later lines were dropped"),
        };
        return bound + cut + dropped + ".";
    }

    private static string Cut(string text, int length)
    {
        if (text.Length <= length)
        {
            return text;
        }

        if (length <= 0)
        {
            return string.Empty;
        }

        // Never cut a surrogate pair in half.
        return text[..(char.IsHighSurrogate(text[length - 1]) ? length - 1 : length)];
    }
}
