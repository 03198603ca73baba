using System.Text.Json.Serialization;

namespace Forge.Jobs;

/// <summary>Where a job is in its life. Users see these as lower-case names (see <see cref="JobStateNames"/>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobState>))]
public enum JobState
{
    /// <summary>Waits for its run-at time.</summary>
    [JsonStringEnumMemberName("scheduled")] Scheduled,

    /// <summary>Ready to be claimed by a node.</summary>
    [JsonStringEnumMemberName("available")] Available,

    /// <summary>Claimed under a lease; its handler runs on one node.</summary>
    [JsonStringEnumMemberName("running")] Running,

    /// <summary>Failed an attempt and waits out its backoff before it becomes available again.</summary>
    [JsonStringEnumMemberName("retrying")] Retrying,

    /// <summary>Blocked on parent jobs that have not yet succeeded.</summary>
    [JsonStringEnumMemberName("waiting")] Waiting,

    /// <summary>Terminal: the handler completed.</summary>
    [JsonStringEnumMemberName("succeeded")] Succeeded,

    /// <summary>Terminal: every retry failed. The dead-letter set; can be retried by hand.</summary>
    [JsonStringEnumMemberName("dead")] Dead,

    /// <summary>Terminal: cancelled before it could finish.</summary>
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}

/// <summary>The lower-case names of <see cref="JobState"/> used in APIs, metrics and docs.</summary>
public static class JobStateNames
{
    /// <summary>The lower-case name of <paramref name="state"/>, for example <c>"retrying"</c>.</summary>
    public static string ToName(this JobState state) => state switch
    {
        JobState.Scheduled => "scheduled",
        JobState.Available => "available",
        JobState.Running => "running",
        JobState.Retrying => "retrying",
        JobState.Waiting => "waiting",
        JobState.Succeeded => "succeeded",
        JobState.Dead => "dead",
        JobState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a job state."),
    };

    /// <summary>Whether a job in <paramref name="state"/> will never change again on its own.</summary>
    public static bool IsTerminal(this JobState state) =>
        state is JobState.Succeeded or JobState.Dead or JobState.Cancelled;
}
