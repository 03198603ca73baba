using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>An attempt's log lines as stored in a jsonb column: an array of <c>{"at", "level", "message", "exception"}</c>,
/// with the level's lower-case name and no <c>exception</c> when there is none. Written and read by hand, so that
/// nothing here depends on reflection.</summary>
internal static class AttemptLogJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(IReadOnlyList<JobLogLine> lines)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartArray();
            foreach (var line in lines)
            {
                writer.WriteStartObject();
                writer.WriteString("at", line.At);
                writer.WriteString("level", LevelName(line.Level));
                writer.WriteString("message", PostgresText.Clean(line.Message));
                if (line.Exception is { } exception)
                {
                    writer.WriteString("exception", PostgresText.Clean(exception));
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static IReadOnlyList<JobLogLine> Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        var lines = new JobLogLine[document.RootElement.GetArrayLength()];
        var i = 0;
        foreach (var line in document.RootElement.EnumerateArray())
        {
            lines[i++] = new JobLogLine(
                line.GetProperty("at").GetDateTimeOffset(),
                ParseLevel(line.GetProperty("level").GetString()),
                line.GetProperty("message").GetString() ?? string.Empty,
                line.TryGetProperty("exception", out var exception) ? exception.GetString() : null);
        }

        return lines;
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "information",
        LogLevel.Warning => "warning",
        LogLevel.Error => "error",
        LogLevel.Critical => "critical",
        _ => "none",
    };

    private static LogLevel ParseLevel(string? level) => level switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "information" => LogLevel.Information,
        "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" => LogLevel.Critical,
        _ => LogLevel.None,
    };
}
