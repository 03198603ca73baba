using BenchmarkDotNet.Attributes;
using Forge.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Forge.Jobs.Benchmarks;

/// <summary>Drain throughput of one node on the in-memory store: the engine's own overhead (claim, dispatch,
/// scope per attempt, completion batching) with empty handlers. The jobs are enqueued before timing starts.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8, invocationCount: 1)]
public class EngineBenchmarks
{
    private readonly Countdown _countdown = new();
    private IHost? _host;

    [Params(10_000)]
    public int Jobs { get; set; }

    [Params(1, 16, 64)]
    public int Concurrency { get; set; }

    [IterationSetup]
    public void Setup()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(_countdown);
        builder.Services.AddForgeJobs(forge => forge
            .AddQueue("default", q => q.Concurrency = Concurrency)
            .AddHandler<NoOpHandler, NoOp>());
        _host = builder.Build();
        _countdown.Reset(Jobs);
        var client = _host.Services.GetRequiredService<IJobClient>();
        client.EnqueueManyAsync(Enumerable.Range(0, Jobs).Select(n => new NoOp(n))).GetAwaiter().GetResult();
    }

    [Benchmark]
    public async Task Drain()
    {
        await _host!.StartAsync();
        await _countdown.Done.Task;
    }

    [IterationCleanup]
    public void Cleanup()
    {
        _host!.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
    }
}
