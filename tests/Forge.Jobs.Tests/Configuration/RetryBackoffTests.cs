namespace Forge.Jobs.Tests.Configuration;

public sealed class RetryBackoffTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(9, 256)]
    public void Default_WithoutJitter_DoublesFromOneSecond(int attempt, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), RetryBackoff.Default.DelayAfter(attempt, random: 0.5));
    }

    [Theory]
    [InlineData(10)]
    [InlineData(40)]
    [InlineData(int.MaxValue)]
    public void Default_LateAttempts_AreCappedAtFiveMinutes(int attempt)
    {
        Assert.Equal(TimeSpan.FromMinutes(5), RetryBackoff.Default.DelayAfter(attempt, random: 0.5));
        Assert.True(RetryBackoff.Default.DelayAfter(attempt, random: 0.999) <= TimeSpan.FromMinutes(5));
    }

    [Fact]
    public void Jitter_SpreadsTheDelayByTwentyPercentEitherWay()
    {
        Assert.Equal(TimeSpan.FromSeconds(3.2), RetryBackoff.Default.DelayAfter(3, random: 0));
        Assert.Equal(TimeSpan.FromSeconds(4.8), RetryBackoff.Default.DelayAfter(3, random: 1));
    }

    [Fact]
    public void Custom_UsesItsOwnInitialDelayCapAndJitter()
    {
        var backoff = new RetryBackoff { InitialDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(30), Jitter = 0 };

        Assert.Equal([10, 20, 30, 30], Enumerable.Range(1, 4).Select(a => backoff.DelayAfter(a, random: 0.9).TotalSeconds));
    }

    [Theory]
    [InlineData(0, 60, 0.2, "InitialDelay")]
    [InlineData(10, 5, 0.2, "MaxDelay")]
    [InlineData(1, 60, 1.5, "Jitter")]
    public void Validate_OutOfRange_NamesTheProperty(int initialSeconds, int maxSeconds, double jitter, string property)
    {
        var backoff = new RetryBackoff { InitialDelay = TimeSpan.FromSeconds(initialSeconds), MaxDelay = TimeSpan.FromSeconds(maxSeconds), Jitter = jitter };

        Assert.StartsWith($"Backoff.{property}", backoff.Validate("Backoff"), StringComparison.Ordinal);
    }
}

public sealed class BackoffPrecedenceTests
{
    private static readonly RetryBackoff Node = new() { InitialDelay = TimeSpan.FromSeconds(1) };
    private static readonly RetryBackoff Queue = new() { InitialDelay = TimeSpan.FromSeconds(2) };
    private static readonly RetryBackoff Type = new() { InitialDelay = TimeSpan.FromSeconds(3) };
    private static readonly RetryBackoff Job = new() { InitialDelay = TimeSpan.FromSeconds(4) };

    [Fact]
    public void Backoff_JobWinsOverTypeOverQueueOverNode()
    {
        var registry = Registry();

        Assert.Same(Job, registry.BackoffFor(Job, "typed", "slow"));
        Assert.Same(Type, registry.BackoffFor(null, "typed", "slow"));
        Assert.Same(Queue, registry.BackoffFor(null, "untyped", "slow"));
        Assert.Same(Node, registry.BackoffFor(null, "untyped", "default"));
    }

    private static Forge.Jobs.Serialization.JobTypeRegistry Registry()
    {
        var options = new ForgeJobsOptions { Backoff = Node };
        options.Queues.Add("slow", new QueueOptions("slow") { Backoff = Queue });
        options.Handlers.Add(new Forge.Jobs.Serialization.HandlerRegistration(
            typeof(Support.PingHandler), typeof(Support.Ping), "typed", new JobTypeOptions { Backoff = Type },
            (r, j) => new Forge.Jobs.Serialization.JobInvoker<Support.PingHandler, Support.Ping>(r, j)));
        return new Forge.Jobs.Serialization.JobTypeRegistry(Microsoft.Extensions.Options.Options.Create(options));
    }
}
