using Forge.Jobs.Processing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Forge.Jobs.Tests.Processing;

/// <summary>What an attempt's log keeps for the history, and that the host's logging still gets every line.</summary>
public sealed class AttemptLogTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ForwardedLines _host = new(LogLevel.Debug);

    [Fact]
    public void AttemptLog_NothingLogged_HasNoLines() =>
        Assert.Null(new AttemptLog(_host, _clock).ToLines());

    [Fact]
    public void AttemptLog_KeepsInformationAndAbove_AndForwardsEveryLineToTheHost()
    {
        var log = new AttemptLog(_host, _clock);
        var failure = new InvalidOperationException("declined");

        Write(log, LogLevel.Debug, "debug detail");
        Write(log, LogLevel.Information, "charging 42");
        _clock.Advance(TimeSpan.FromSeconds(1));
        Write(log, LogLevel.Error, "gave up on 42", failure);

        Assert.Equal(["debug detail", "charging 42", "gave up on 42"], _host.Messages);
        Assert.Equal(
            [
                new JobLogLine(_clock.Start, LogLevel.Information, "charging 42", null),
                new JobLogLine(_clock.Start.AddSeconds(1), LogLevel.Error, "gave up on 42", failure.ToString()),
            ],
            log.ToLines()!);
    }

    [Fact]
    public void AttemptLog_InformationFilteredOutByTheHost_IsStillKept()
    {
        var log = new AttemptLog(new ForwardedLines(LogLevel.Warning), _clock);

        Assert.True(log.IsEnabled(LogLevel.Information));
        Assert.False(log.IsEnabled(LogLevel.Debug));
        Write(log, LogLevel.Information, "kept for the history");

        Assert.Equal("kept for the history", Assert.Single(log.ToLines()!).Message);
    }

    [Fact]
    public void AttemptLog_MoreLinesThanTheBound_KeepsTheFirstAndCountsTheRest()
    {
        var log = new AttemptLog(_host, _clock);
        for (var i = 0; i < AttemptLog.MaxLines + 7; i++)
        {
            Write(log, LogLevel.Information, $"line {i}");
        }

        var lines = log.ToLines()!;

        Assert.Equal(AttemptLog.MaxLines + 1, lines.Length);
        Assert.Equal(Enumerable.Range(0, AttemptLog.MaxLines).Select(i => $"line {i}"), lines[..^1].Select(l => l.Message));
        Assert.Equal(LogLevel.Warning, lines[^1].Level);
        Assert.Equal("The history keeps at most 100 lines and 16384 characters of an attempt's log; 7 later lines were dropped.", lines[^1].Message);
        Assert.Equal(AttemptLog.MaxLines + 7, _host.Messages.Count);
    }

    [Fact]
    public void AttemptLog_MoreTextThanTheBound_CutsTheLineThatCrossesItAndDropsTheRest()
    {
        var log = new AttemptLog(_host, _clock);
        Write(log, LogLevel.Information, "first");
        Write(log, LogLevel.Information, new string('x', AttemptLog.MaxChars));
        Write(log, LogLevel.Information, "after the bound");

        var lines = log.ToLines()!;

        Assert.Equal(3, lines.Length);
        Assert.Equal(AttemptLog.MaxChars, lines[0].Message.Length + lines[1].Message.Length);
        Assert.Equal("The history keeps at most 100 lines and 16384 characters of an attempt's log; the last line kept was cut; 1 later line was dropped.", lines[2].Message);
    }

    [Fact]
    public void AttemptLog_CutInsideASurrogatePair_KeepsNoHalfOfIt()
    {
        var log = new AttemptLog(_host, _clock);
        Write(log, LogLevel.Information, new string('x', AttemptLog.MaxChars - 1) + "\U0001F525");

        var kept = log.ToLines()![0].Message;

        Assert.Equal(new string('x', AttemptLog.MaxChars - 1), kept);
    }

    /// <summary>Writes a line as a handler's logging call would, with <paramref name="message"/> already formatted.</summary>
    internal static void Write(ILogger logger, LogLevel level, string message, Exception? exception = null) =>
        logger.Log(level, default, message, exception, static (text, _) => text);

    /// <summary>The host's logging, as far as a handler's lines are concerned: what it would write at its minimum level.</summary>
    private sealed class ForwardedLines(LogLevel minimum) : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Messages.Add(formatter(state, exception));
            }
        }
    }
}
