namespace Forge.Jobs;

/// <summary>Exponential backoff with jitter: the delay before retry <c>n</c> is
/// <c>InitialDelay × 2^(n−1)</c>, spread by ±<see cref="Jitter"/> and never above <see cref="MaxDelay"/>.</summary>
public sealed record RetryBackoff
{
    /// <summary>The backoff used when nothing else is configured: 1 s doubling, capped at 5 min, ±20 % jitter.</summary>
    public static RetryBackoff Default { get; } = new();

    private static readonly TimeSpan MaxMaxDelay = TimeSpan.FromDays(30);

    /// <summary>The delay before the first retry.</summary>
    /// <value>Defaults to 1 second.</value>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts, at most 30 days.</summary>
    /// <value>Defaults to 5 minutes.</value>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The fraction by which each delay is spread at random, from 0 (none) to 1, so that jobs
    /// that failed together do not retry together.</summary>
    /// <value>Defaults to 0.2 (±20 %).</value>
    public double Jitter { get; init; } = 0.2;

    /// <summary>The delay before the retry that follows failed attempt <paramref name="attempt"/> (1-based).</summary>
    /// <param name="attempt">The attempt that just failed, from 1.</param>
    /// <param name="random">A uniform random number in [0, 1) that picks the point within the jitter band.</param>
    internal TimeSpan DelayAfter(int attempt, double random)
    {
        var exponent = Math.Min(Math.Max(attempt - 1, 0), 62);
        var baseTicks = Math.Min(InitialDelay.Ticks * Math.Pow(2, exponent), MaxDelay.Ticks);
        var spread = 1 + (Jitter * ((2 * random) - 1));
        return TimeSpan.FromTicks((long)Math.Min(baseTicks * spread, MaxDelay.Ticks));
    }

    internal string? Validate(string owner)
    {
        if (InitialDelay <= TimeSpan.Zero)
        {
            return $"{owner}.InitialDelay is {InitialDelay}; set it above zero, for example TimeSpan.FromSeconds(1).";
        }

        if (MaxDelay < InitialDelay)
        {
            return $"{owner}.MaxDelay ({MaxDelay}) is below InitialDelay ({InitialDelay}); set MaxDelay at or above InitialDelay.";
        }

        if (MaxDelay > MaxMaxDelay)
        {
            return $"{owner}.MaxDelay is {MaxDelay}; use at most {MaxMaxDelay}.";
        }

        return Jitter is < 0 or > 1 || double.IsNaN(Jitter)
            ? $"{owner}.Jitter is {Jitter}; set it between 0 (no jitter) and 1."
            : null;
    }
}
