namespace Forge.Jobs;

/// <summary>What a cron schedule does with occurrences it missed by more than
/// <see cref="ForgeJobsOptions.MisfireThreshold"/>, because no node led, the cluster was down, the schedule's
/// store could not be reached, or the leader was busy. Occurrences due within the threshold always run, each once.</summary>
public enum MisfirePolicy
{
    /// <summary>Missed occurrences are not run; the schedule goes on with its next occurrence that is on time.</summary>
    Skip,

    /// <summary>All missed occurrences together run once, as one job, as soon as the leader sees them.</summary>
    RunOnce,
}
