using BenchmarkDotNet.Attributes;
using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Benchmarks;

/// <summary>The in-memory store's hot path for <see cref="Jobs"/> jobs in batches of <see cref="BatchSize"/>: insert
/// into an empty store, claim them all, complete them all (succeeded). Each benchmark starts from the state the
/// one before leaves, built in its iteration setup, so one invocation per iteration; the figures are per job. The
/// counts are mutators, so that they also apply to a job given on the command line (<c>--job short</c>).</summary>
[MemoryDiagnoser]
[InvocationCount(1, unrollFactor: 1)]
[WarmupCount(3)]
[IterationCount(15)]
public class InMemoryStoreBenchmarks
{
    public const int Jobs = 50_000;

    private NewJob[][] _inserts = [];
    private Completion[][] _completions = [];
    private InMemoryJobStore _store = new(TimeProvider.System);
    private ClaimRequest? _claim;

    [Params(1, 100)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var services = SendEmailServices.Build();
        var registry = services.GetRequiredService<JobTypeRegistry>();
        _inserts = [.. Enumerable.Range(1, Jobs).Select(n => NewJobs.Create(SendEmail.Sample(n), options: null, registry)).Chunk(BatchSize)];
        _claim = new ClaimRequest("node-1", TimeSpan.FromMinutes(5), [new QueueLimit(SendEmailServices.Queue, BatchSize)]);
    }

    [IterationSetup(Target = nameof(Insert))]
    public void EmptyStore() => _store = new InMemoryJobStore(TimeProvider.System);

    [IterationSetup(Target = nameof(Claim))]
    public void StoreWithAvailableJobs()
    {
        EmptyStore();
        Insert();
    }

    [IterationSetup(Target = nameof(Complete))]
    public void StoreWithClaimedJobs()
    {
        StoreWithAvailableJobs();
        var claimed = new List<ClaimedJob>(Jobs);
        while (claimed.Count < Jobs)
        {
            claimed.AddRange(ClaimBatch());
        }

        _completions = [.. claimed.Select(job => new Completion(job.Id, job.LeaseOwner, job.Attempt, CompletionOutcome.Succeeded)).Chunk(BatchSize)];
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public void Insert()
    {
        foreach (var batch in _inserts)
        {
            _store.InsertManyAsync(batch, CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public int Claim()
    {
        var claimed = 0;
        while (claimed < Jobs)
        {
            claimed += ClaimBatch().Count;
        }

        return claimed;
    }

    private ClaimResult ClaimBatch()
    {
        var claimed = _store.ClaimAsync(_claim!, CancellationToken.None).GetAwaiter().GetResult();
        return claimed.Count > 0 ? claimed : throw new InvalidOperationException("The store ran out of jobs to claim.");
    }

    [Benchmark(OperationsPerInvoke = Jobs)]
    public int Complete()
    {
        var refused = 0;
        foreach (var batch in _completions)
        {
            refused += _store.CompleteManyAsync(batch, CancellationToken.None).GetAwaiter().GetResult().Count;
        }

        return refused;
    }
}
