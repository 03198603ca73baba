using System.Text.Json.Serialization;

namespace Forge.Jobs;

/// <summary>One finished attempt of a job, as recorded in its history.</summary>
/// <param name="Attempt">The attempt number, from 1.</param>
/// <param name="Node">The node that ran it.</param>
/// <param name="StartedAt">When it was claimed, on the store's clock.</param>
/// <param name="FinishedAt">When its outcome was stored, on the store's clock.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Error">The error, for an attempt that did not succeed.</param>
public sealed record JobAttempt(
    int Attempt,
    string Node,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    AttemptOutcome Outcome,
    string? Error)
{
    /// <summary>The lines the handler wrote through <see cref="JobContext.Logger"/> during this attempt, oldest first:
    /// those of level <see cref="Microsoft.Extensions.Logging.LogLevel.Information"/> and above, at most
    /// 100 lines and 16,384 characters of message and exception text. When the handler wrote more,
    /// the first lines are kept and a last line of level <see cref="Microsoft.Extensions.Logging.LogLevel.Warning"/>
    /// says how many were dropped. Empty for an attempt that logged nothing and for one whose lease expired (its node
    /// stopped before it could store them).</summary>
    public IReadOnlyList<JobLogLine> Logs { get; init; } = [];
}

/// <summary>How an attempt ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AttemptOutcome>))]
public enum AttemptOutcome
{
    /// <summary>The handler returned.</summary>
    [JsonStringEnumMemberName("succeeded")] Succeeded,

    /// <summary>The handler threw, timed out, or its payload or handler could not be found.</summary>
    [JsonStringEnumMemberName("failed")] Failed,

    /// <summary>The job was cancelled while it ran.</summary>
    [JsonStringEnumMemberName("cancelled")] Cancelled,

    /// <summary>Its node shut down before it finished; the job went back to the queue at once.</summary>
    [JsonStringEnumMemberName("interrupted")] Interrupted,

    /// <summary>Its node stopped renewing the lease (it died or hung), and the job was rescued.</summary>
    [JsonStringEnumMemberName("lease_expired")] LeaseExpired,
}
