using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Configuration;

/// <summary>Bad queue weights, node caps and queue settings are refused with a message that quotes the value.</summary>
public sealed class QueueControlValidationTests
{
    private readonly InMemoryJobStore _store = new(TimeProvider.System);

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task Start_QueueWeightOutOfRange_FailsNamingTheQueueAndTheRange(int weight)
    {
        var error = await StartFailureAsync(f => f.AddQueue("emails", q => q.Weight = weight));

        Assert.Contains($"Queue 'emails': Weight is {weight}; use 1 to 100", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MaxConcurrencyZero_FailsSayingHowToHaveNoCap()
    {
        var error = await StartFailureAsync(f => f.Configure(o => o.MaxConcurrency = 0));

        Assert.Contains("ForgeJobsOptions.MaxConcurrency is 0; use 1 to 100000 jobs at once, or leave it unset for no node-wide cap.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public async Task SetQueueConcurrency_OutOfRange_ThrowsQuotingTheValueAndStoresNothing(int concurrency)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Client().SetQueueConcurrencyAsync("emails", concurrency));

        Assert.Contains($"Concurrency {concurrency} for queue 'emails' is out of range; use 1 to 10000", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListQueuesAsync(default));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public async Task SetQueueGlobalLimit_OutOfRange_ThrowsQuotingTheValueAndStoresNothing(int limit)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Client().SetQueueGlobalLimitAsync("emails", limit));

        Assert.Contains($"Global limit {limit} for queue 'emails' is out of range; use 1 to 1000000", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListQueuesAsync(default));
    }

    [Fact]
    public async Task QueueSettings_InvalidQueueName_ThrowsQuotingIt()
    {
        var concurrency = await Assert.ThrowsAsync<ArgumentException>(() => Client().SetQueueConcurrencyAsync("Emails", 3));
        var limit = await Assert.ThrowsAsync<ArgumentException>(() => Client().SetQueueGlobalLimitAsync("Emails", 3));

        Assert.Contains("Queue name 'Emails' is not valid", concurrency.Message, StringComparison.Ordinal);
        Assert.Contains("Queue name 'Emails' is not valid", limit.Message, StringComparison.Ordinal);
    }

    private JobClient Client() => new(_store, new JobTypeRegistry(Options.Create(new ForgeJobsOptions())));

    private static async Task<OptionsValidationException> StartFailureAsync(Action<ForgeJobsBuilder> configure)
    {
        using var host = TestNode.Build(new InMemoryJobStore(TimeProvider.System), configure);
        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
    }
}
