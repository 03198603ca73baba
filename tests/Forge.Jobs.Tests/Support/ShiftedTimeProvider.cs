namespace Forge.Jobs.Tests.Support;

/// <summary>The system clock set <paramref name="offset"/> away from the real time, with real timers: the clock of a node
/// whose clock is skewed.</summary>
internal sealed class ShiftedTimeProvider(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
