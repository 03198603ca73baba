using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Configuration;

public sealed class OptionsValidationTests
{
    [Fact]
    public async Task Start_QueueConcurrencyZero_FailsNamingTheQueueAndTheRange()
    {
        var error = await StartFailureAsync(f => f.AddQueue("emails", q => q.Concurrency = 0));

        Assert.Contains("Queue 'emails': Concurrency is 0; use 1 to 10000 jobs at once.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MaxLengthBelowOne_Fails()
    {
        var error = await StartFailureAsync(f => f.AddQueue("emails", q => q.MaxLength = 0));

        Assert.Contains("Queue 'emails': MaxLength is 0; use at least 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_HandlerForUndeclaredQueue_FailsSayingHowToDeclareIt()
    {
        var error = await StartFailureAsync(f => f.AddHandler<PingHandler, Ping>(t => t.Queue = "reports"));

        Assert.Contains("AddHandler<PingHandler, Ping>: queue 'reports' is not declared on this node. Declare it with AddQueue(\"reports\")", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TwoHandlersForOneTypeName_FailsNamingBoth()
    {
        var error = await StartFailureAsync(f => f.AddHandler<PingHandler, Ping>().AddHandler<OtherPingHandler, Other.Ping>());

        Assert.Contains("Job type name 'ping' has 2 handlers", error.Message, StringComparison.Ordinal);
        Assert.Contains("[JobType(\"...\")]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_RenewIntervalNotShorterThanLease_Fails()
    {
        var error = await StartFailureAsync(f => f.Configure(o =>
        {
            o.LeaseDuration = TimeSpan.FromSeconds(10);
            o.LeaseRenewInterval = TimeSpan.FromSeconds(10);
        }));

        Assert.Contains("LeaseRenewInterval (00:00:10) must be shorter than LeaseDuration (00:00:10)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_IntervalBeyondOneDay_Fails()
    {
        var error = await StartFailureAsync(f => f.Configure(o => o.PollInterval = TimeSpan.FromDays(60)));

        Assert.Contains("ForgeJobsOptions.PollInterval is 60.00:00:00; use a positive time up to 1.00:00:00.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_InvalidQueueNameAndBackoff_ReportsEveryProblemAtOnce()
    {
        var error = await StartFailureAsync(f => f
            .AddQueue("Bad Queue!")
            .Configure(o => o.Backoff = new RetryBackoff { Jitter = 2 })
            .AddHandler<AlwaysFailsHandler, AlwaysFails>(t => t.MaxRetries = -1));

        Assert.Contains("Queue name 'Bad Queue!' is not valid", error.Message, StringComparison.Ordinal);
        Assert.Contains("ForgeJobsOptions.Backoff.Jitter is 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRetries is -1", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, error.Failures.Count());
    }

    [Theory]
    [InlineData(1023)]
    [InlineData(256 * 1024 * 1024 + 1)]
    public async Task Start_MaxPayloadBytesOutOfRange_FailsNamingTheOptionAndItsRange(int bytes)
    {
        var error = await StartFailureAsync(f => f.Configure(o => o.MaxPayloadBytes = bytes));

        Assert.Contains(FormattableString.Invariant($"ForgeJobsOptions.MaxPayloadBytes is {bytes:N0}; use 1,024 (1 KiB) to 268,435,456 (256 MiB) bytes"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MaxClaimBytesOutOfRange_FailsNamingTheOptionAndItsRange()
    {
        var error = await StartFailureAsync(f => f.Configure(o => o.MaxClaimBytes = 0));

        Assert.Contains("ForgeJobsOptions.MaxClaimBytes is 0; use 1,024 (1 KiB) to 1,073,741,824 (1 GiB) bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MaxClaimBytesBelowMaxPayloadBytes_FailsSayingWhichToChange()
    {
        var error = await StartFailureAsync(f => f.Configure(o =>
        {
            o.MaxPayloadBytes = 4 << 20;
            o.MaxClaimBytes = 2 << 20;
        }));

        Assert.Contains("ForgeJobsOptions.MaxClaimBytes (2,097,152) is below MaxPayloadBytes (4,194,304)", error.Message, StringComparison.Ordinal);
        Assert.Contains("raise MaxClaimBytes to at least MaxPayloadBytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PayloadLimits_Default_Are1MiBPerJobAnd16MiBPerClaim()
    {
        var options = new ForgeJobsOptions();

        Assert.Equal((1_048_576, 16_777_216), (options.MaxPayloadBytes, options.MaxClaimBytes));
    }

    [Fact]
    public void AddForgeJobs_CalledTwice_Throws()
    {
        var services = new ServiceCollection();
        services.AddForgeJobs(_ => { });

        var error = Assert.Throws<InvalidOperationException>(() => services.AddForgeJobs(_ => { }));

        Assert.Contains("called twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ValidConfiguration_Starts()
    {
        using var host = TestNode.Build(new InMemoryJobStore(TimeProvider.System), f => f.AddQueue("emails", q => q.Concurrency = 2).AddHandler<PingHandler, Ping>(t => t.Queue = "emails"), services: s => s.AddSingleton(new Recorder()));

        await host.StartAsync();
        await host.StopAsync();
    }

    private static async Task<OptionsValidationException> StartFailureAsync(Action<ForgeJobsBuilder> configure)
    {
        using var host = TestNode.Build(new InMemoryJobStore(TimeProvider.System), configure);
        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
    }

    private static class Other
    {
        internal sealed record Ping;
    }

    private sealed class OtherPingHandler : IJobHandler<Other.Ping>
    {
        public Task HandleAsync(Other.Ping job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
