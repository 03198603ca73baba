using System.Text.Encodings.Web;
using System.Text.Json;
using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage.InMemory;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Configuration;

/// <summary>Every enqueue path refuses a payload over <see cref="ForgeJobsOptions.MaxPayloadBytes"/> before it stores
/// anything. <see cref="Blob"/> serializes to <c>{"data":"…"}</c>: 11 bytes around its data.</summary>
public sealed class PayloadLimitTests
{
    private const int Limit = 1024;
    private const int Overhead = 11;

    private readonly InMemoryJobStore _store = new(TimeProvider.System);
    private readonly JobClient _client;

    public PayloadLimitTests()
    {
        // Relaxed escaping writes non-ASCII characters as they are (in UTF-8), as many applications configure it.
        var options = new ForgeJobsOptions
        {
            MaxPayloadBytes = Limit,
            JsonSerializerOptions = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping },
        };
        _client = new JobClient(_store, new JobTypeRegistry(Options.Create(options)));
    }

    [Fact]
    public async Task Enqueue_PayloadOverTheLimit_ThrowsNamingTypeSizeLimitAndOption_AndStoresNothing()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(Blob.OfBytes(Limit + 1)));

        Assert.StartsWith(
            "The payload of job type 'blob' is 1,025 bytes, over ForgeJobsOptions.MaxPayloadBytes (1,024). Store large data elsewhere and pass a reference, or raise MaxPayloadBytes.",
            error.Message,
            StringComparison.Ordinal);
        Assert.Equal("job", error.ParamName);
        Assert.Empty(await _store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task Enqueue_PayloadOfExactlyTheLimit_IsStored()
    {
        var id = await _client.EnqueueAsync(Blob.OfBytes(Limit));

        var job = await _client.GetJobAsync(id);
        Assert.Equal(Limit, System.Text.Encoding.UTF8.GetByteCount(job!.Payload));
    }

    [Fact]
    public async Task Enqueue_PayloadHoldingNul_ThrowsSayingWhy_AndStoresNothing()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(new Blob("a\0b")));

        Assert.Contains("holds the character U+0000 (NUL), which PostgreSQL cannot store in jsonb", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task Enqueue_PayloadHoldingABackslashBeforeU0000_IsStored()
    {
        var id = await _client.EnqueueAsync(new Blob("\\u0000"));

        Assert.Contains("\\\\u0000", (await _client.GetJobAsync(id))!.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enqueue_CountsUtf8BytesNotCharacters()
    {
        // 600 characters of two UTF-8 bytes each: 611 characters of JSON, 1,211 bytes.
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(new Blob(new string('é', 600))));

        Assert.Contains("is 1,211 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueMany_OneJobOverTheLimit_StoresNoJobOfTheCall()
    {
        Blob[] jobs = [Blob.OfBytes(20), Blob.OfBytes(Limit + 500), Blob.OfBytes(20)];

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueManyAsync(jobs));

        Assert.Contains("is 1,524 bytes, over ForgeJobsOptions.MaxPayloadBytes (1,024)", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task EnqueueWorkflow_OneStepOverTheLimit_StoresNoStep()
    {
        var workflow = new Workflow()
            .Add("small", Blob.OfBytes(20))
            .Add("large", Blob.OfBytes(Limit + 1), [JobDependency.On("small")]);

        await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueWorkflowAsync(workflow));

        Assert.Empty(await _store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task EnqueueBatch_CallbackOverTheLimit_StoresNoJobOfTheBatch()
    {
        var batch = new JobBatch().Add(Blob.OfBytes(20)).OnFinished(Blob.OfBytes(Limit + 1));

        await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueBatchAsync(batch));

        Assert.Empty(await _store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task AddOrUpdateSchedule_PayloadOverTheLimit_IsRefusedAtRegistration()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.AddOrUpdateScheduleAsync("nightly", "0 3 * * *", Blob.OfBytes(Limit + 1)));

        Assert.Contains("over ForgeJobsOptions.MaxPayloadBytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _client.ListSchedulesAsync());
    }

    [JobType("blob")]
    internal sealed record Blob(string Data)
    {
        /// <summary>A blob whose payload is <paramref name="bytes"/> bytes long.</summary>
        public static Blob OfBytes(int bytes) => new(new string('x', bytes - Overhead));
    }
}
