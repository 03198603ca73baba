using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs;

/// <summary>One line that a handler wrote through <see cref="JobContext.Logger"/> during an attempt, as kept in the
/// job's history (see <see cref="JobAttempt.Logs"/>).</summary>
/// <param name="At">When the handler wrote it, on the clock of the node that ran the attempt.</param>
/// <param name="Level">Its level: <see cref="LogLevel.Information"/> or above.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception logged with it (<see cref="System.Exception.ToString"/>, with its stack), if any.</param>
public sealed record JobLogLine(
    DateTimeOffset At,
    [property: JsonConverter(typeof(JsonStringEnumConverter<LogLevel>))] LogLevel Level,
    string Message,
    string? Exception);
