using BenchmarkDotNet.Attributes;
using Forge.Jobs.Retry;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Benchmarks;

/// <summary>The retry delay of a failed attempt: the formula alone (<see cref="RetryBackoff.DelayAfter"/>), the
/// lookup of the backoff that applies (job, type, queue, node), and the whole of <see cref="RetryPolicy.Fail"/>,
/// which the executors and the rescuer call for every failed attempt.</summary>
[MemoryDiagnoser]
public class BackoffBenchmarks
{
    private const string Error = "System.TimeoutException: The SMTP server did not answer within 30 s.";

    private readonly RetryBackoff _backoff = RetryBackoff.Default;
    private readonly double _random = 0.37;
    private ServiceProvider? _services;
    private JobTypeRegistry? _registry;
    private RetryPolicy? _policy;

    [GlobalSetup]
    public void Setup()
    {
        _services = SendEmailServices.Build();
        _registry = _services.GetRequiredService<JobTypeRegistry>();
        _policy = _services.GetRequiredService<RetryPolicy>();
    }

    /// <summary>Failed attempts 1 to 20: from 1 s doubling up to past the 5 min cap.</summary>
    [Benchmark(OperationsPerInvoke = 20)]
    public long DelayAfter()
    {
        var ticks = 0L;
        for (var attempt = 1; attempt <= 20; attempt++)
        {
            ticks += _backoff.DelayAfter(attempt, _random).Ticks;
        }

        return ticks;
    }

    [Benchmark]
    public RetryBackoff BackoffLookup() => _registry!.BackoffFor(own: null, "send_email", SendEmailServices.Queue);

    [Benchmark]
    public object PolicyFail() =>
        _policy!.Fail(new JobId(42), "node-1", attempt: 3, failures: 2, maxRetries: 25, "send_email", SendEmailServices.Queue, backoff: null, Error);

    [GlobalCleanup]
    public void Cleanup() => _services!.Dispose();
}
