using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Configuration;

public sealed class EnqueueValidationTests
{
    private readonly InMemoryJobStore _store = new(TimeProvider.System);
    private readonly JobClient _client;

    public EnqueueValidationTests()
    {
        var options = new ForgeJobsOptions();
        options.Queues.Add("bounded", new QueueOptions("bounded") { MaxLength = 1 });
        options.Handlers.Add(new HandlerRegistration(typeof(PingHandler), typeof(Ping), "ping", new JobTypeOptions { Queue = "pings", MaxRetries = 7 }, (r, j) => new JobInvoker<PingHandler, Ping>(r, j)));
        _client = new JobClient(_store, new JobTypeRegistry(Options.Create(options)));
    }

    public static TheoryData<JobOptions, string> InvalidOptions => new()
    {
        { new JobOptions { Priority = 10 }, "JobOptions.Priority is 10; use 0 (lowest) to 9 (highest)" },
        { new JobOptions { Priority = -1 }, "JobOptions.Priority is -1" },
        { new JobOptions { Queue = "Emails" }, "Queue name 'Emails' is not valid" },
        { new JobOptions { Delay = TimeSpan.FromSeconds(-1) }, "JobOptions.Delay is -00:00:01" },
        { new JobOptions { Delay = TimeSpan.FromSeconds(1), RunAt = DateTimeOffset.UtcNow }, "sets both Delay and RunAt" },
        { new JobOptions { MaxRetries = -2 }, "JobOptions.MaxRetries is -2" },
        { new JobOptions { Timeout = TimeSpan.Zero }, "JobOptions.Timeout is 00:00:00" },
        { new JobOptions { Timeout = TimeSpan.FromDays(8) }, "JobOptions.Timeout is 8.00:00:00; use a positive time up to 7.00:00:00" },
        { new JobOptions { IdempotencyKey = "" }, "JobOptions.IdempotencyKey: Idempotency key '' (0 characters) is not valid: use 1 to 255 characters" },
        { new JobOptions { Tags = [.. Enumerable.Range(0, 17).Select(i => $"t{i}")] }, "JobOptions.Tags has 17 tags" },
        { new JobOptions { Backoff = new RetryBackoff { InitialDelay = TimeSpan.Zero } }, "JobOptions.Backoff.InitialDelay" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task Enqueue_InvalidOption_ThrowsNamingItAndStoresNothing(JobOptions options, string message)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(new Ping(1), options));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task Enqueue_WithoutOptions_UsesTheJobTypeDefaults()
    {
        var id = await _client.EnqueueAsync(new Ping(1));

        var job = await _client.GetJobAsync(id);
        Assert.Equal(("ping", "pings", 7, JobPriority.Normal), (job!.Type, job.Queue, job.MaxRetries, job.Priority));
        Assert.Equal(1, System.Text.Json.JsonDocument.Parse(job.Payload).RootElement.GetProperty("n").GetInt32());
    }

    [Fact]
    public async Task Enqueue_OptionsWinOverTheJobTypeDefaults()
    {
        var id = await _client.EnqueueAsync(new Ping(1), new JobOptions { Queue = "urgent", MaxRetries = 0, Priority = JobPriority.Critical, Tags = ["a"] });

        var job = await _client.GetJobAsync(id);
        Assert.Equal(("urgent", 0, 9, "a"), (job!.Queue, job.MaxRetries, job.Priority, Assert.Single(job.Tags)));
    }

    [Fact]
    public async Task Enqueue_PastTheMaxLengthOfADeclaredQueue_ThrowsQueueFull()
    {
        await _client.EnqueueAsync(new Ping(1), new JobOptions { Queue = "bounded" });

        var error = await Assert.ThrowsAsync<QueueFullException>(() => _client.EnqueueAsync(new Ping(2), new JobOptions { Queue = "bounded" }));

        Assert.Contains("Queue 'bounded' is full: it holds its maximum of 1 jobs waiting to run", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueMany_WithAnIdempotencyKey_IsRejected()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueManyAsync([new Ping(1), new Ping(2)], new JobOptions { IdempotencyKey = "k" }));

        Assert.Contains("Enqueue jobs with keys one by one", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResult_OfAJobThatHasNotSucceeded_SaysWhy()
    {
        var id = await _client.EnqueueAsync(new Ping(1));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => _client.GetResultAsync<int>(id));

        Assert.Equal($"Job {id} is available; only a succeeded job has a result.", error.Message);
    }

    [Fact]
    public async Task ListJobs_LimitOutOfRange_IsRejected()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.ListJobsAsync(new JobQuery { Limit = 5000 }));

        Assert.Contains("JobQuery.Limit is 5000; use 1 to 1000", error.Message, StringComparison.Ordinal);
    }
}
