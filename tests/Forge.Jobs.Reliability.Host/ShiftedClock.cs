namespace Forge.Jobs.Reliability;

/// <summary>The system clock, set <paramref name="offset"/> away from the real time: a node whose clock is skewed.</summary>
internal sealed class ShiftedClock(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
