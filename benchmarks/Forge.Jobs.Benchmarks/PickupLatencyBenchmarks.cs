using BenchmarkDotNet.Attributes;
using Forge.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Forge.Jobs.Benchmarks;

/// <summary>Idle pickup latency on PostgreSQL: from the start of <c>EnqueueAsync</c> until the handler of that job
/// starts, on an otherwise idle node (woken by LISTEN/NOTIFY, not by its 1 s poll). Needs FORGE_BENCH_PG, the
/// connection string of a server whose database the benchmark may write to (it uses schema forge_bench).</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 30, invocationCount: 20)]
public class PickupLatencyBenchmarks
{
    private readonly Started _started = new();
    private IHost? _host;
    private IJobClient? _client;

    [GlobalSetup]
    public void Setup()
    {
        var connectionString = Environment.GetEnvironmentVariable("FORGE_BENCH_PG")
            ?? throw new InvalidOperationException("Set FORGE_BENCH_PG to a PostgreSQL connection string to run the pickup latency benchmark.");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(_started);
        builder.Services.AddForgeJobs(forge => forge
            .UsePostgres(connectionString, o => o.Schema = "forge_bench")
            .AddHandler<StartedHandler, Pickup>());
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult();
        _client = _host.Services.GetRequiredService<IJobClient>();
    }

    [Benchmark]
    public async Task EnqueueToHandlerStart()
    {
        var started = _started.Next();
        await _client!.EnqueueAsync(new Pickup());
        await started;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _host!.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
    }

    [JobType("pickup")]
    public sealed record Pickup;

    public sealed class Started
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next()
        {
            _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return _next.Task;
        }

        public void Signal() => _next.TrySetResult();
    }

    public sealed class StartedHandler(Started started) : IJobHandler<Pickup>
    {
        public Task HandleAsync(Pickup job, JobContext context, CancellationToken cancellationToken)
        {
            started.Signal();
            return Task.CompletedTask;
        }
    }
}
