namespace Forge.Jobs;

/// <summary>Defaults for every job of one type, set where its handler is registered.
/// A job's own <see cref="JobOptions"/> win over these.</summary>
public sealed class JobTypeOptions
{
    /// <summary>The queue jobs of this type go to. The queue must be declared with <see cref="ForgeJobsBuilder.AddQueue"/>.</summary>
    /// <value>Defaults to <c>"default"</c>.</value>
    public string Queue { get; set; } = QueueOptions.DefaultQueue;

    /// <summary>Retries before a job of this type is dead.</summary>
    /// <value>Defaults to 3.</value>
    public int MaxRetries { get; set; } = JobDefaults.MaxRetries;

    /// <summary>How long one attempt may run, at most 7 days.</summary>
    /// <value>Defaults to 5 minutes.</value>
    public TimeSpan Timeout { get; set; } = JobDefaults.Timeout;

    /// <summary>The retry backoff for jobs of this type.</summary>
    /// <value>Defaults to none: the queue's backoff, else <see cref="ForgeJobsOptions.Backoff"/>, applies.</value>
    public RetryBackoff? Backoff { get; set; }
}

internal static class JobDefaults
{
    public const int MaxRetries = 3;
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>The longest attempt timeout; timers cannot run much past 49 days, and a lease-held attempt of
    /// more than a week is better split into steps.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(7);

    /// <summary>The longest delay before a job's first run.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(3650);

    /// <summary>The longest lease, interval or shutdown wait a node accepts.</summary>
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(1);

    public const int MaxPayloadBytes = 1 << 20;
    public const int MaxClaimBytes = 16 << 20;

    /// <summary>The range of <see cref="ForgeJobsOptions.MaxPayloadBytes"/> and <see cref="ForgeJobsOptions.MaxClaimBytes"/>.</summary>
    public const int MinBytesLimit = 1 << 10;
    public const int MaxPayloadBytesLimit = 256 << 20;
    public const int MaxClaimBytesLimit = 1 << 30;
}
