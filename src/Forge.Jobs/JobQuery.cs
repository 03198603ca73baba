namespace Forge.Jobs;

/// <summary>A filter for <see cref="IJobClient.ListJobsAsync"/>. Jobs come newest first.</summary>
public sealed record JobQuery
{
    /// <summary>Only jobs in this state.</summary>
    public JobState? State { get; init; }

    /// <summary>Only jobs on this queue. A name that is not a valid queue name is rejected.</summary>
    public string? Queue { get; init; }

    /// <summary>Only jobs of this type name. A name that is not a valid job type name is rejected.</summary>
    public string? Type { get; init; }

    /// <summary>Only jobs that carry this tag. A value that is not a valid tag is rejected.</summary>
    public string? Tag { get; init; }

    /// <summary>Only jobs older than this one: pass the last id of a page to get the next page.</summary>
    public JobId? Before { get; init; }

    /// <summary>The most jobs to return, 1 to 1,000.</summary>
    /// <value>Defaults to 100.</value>
    public int Limit { get; init; } = 100;
}
