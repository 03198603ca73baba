using BenchmarkDotNet.Attributes;
using Forge.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Forge.Jobs.Benchmarks;

/// <summary>The client side of enqueue on the in-memory store: option checks, JSON serialization and the
/// store insert, one job at a time and 1,000 per call. The node is not started, so nothing is consumed.</summary>
[MemoryDiagnoser]
public class EnqueueBenchmarks
{
    private readonly NoOp[] _batch = [.. Enumerable.Range(0, 1_000).Select(n => new NoOp(n))];
    private readonly JobOptions _options = new() { Queue = "default", Priority = JobPriority.High };
    private IHost? _host;
    private IJobClient? _client;

    [GlobalSetup]
    public void Setup()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(new Countdown());
        builder.Services.AddForgeJobs(forge => forge.AddHandler<NoOpHandler, NoOp>());
        _host = builder.Build();
        _client = _host.Services.GetRequiredService<IJobClient>();
    }

    [Benchmark]
    public Task<JobId> EnqueueOne() => _client!.EnqueueAsync(new NoOp(1), _options);

    [Benchmark(OperationsPerInvoke = 1_000)]
    public Task<IReadOnlyList<JobId>> EnqueueManyPerJob() => _client!.EnqueueManyAsync(_batch, _options);

    [GlobalCleanup]
    public void Cleanup() => _host!.Dispose();
}
