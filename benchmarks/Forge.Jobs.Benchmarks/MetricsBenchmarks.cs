using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Forge.Jobs.Diagnostics;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Benchmarks;

/// <summary>What the meter costs each attempt: <see cref="ForgeJobsMetrics.Started"/> and
/// <see cref="ForgeJobsMetrics.Completed"/> (two counters and two histograms), with nothing listening and with a listener
/// that adds up every measurement, as an exporter does.</summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private readonly ClaimedJob _job = new(new JobId(42), "send_email", "default", 5, 1, 3, TimeSpan.FromMinutes(5), "{}", null, "node-1", 0, TimeSpan.FromMilliseconds(3));
    private ForgeJobsMetrics? _metrics;
    private MeterListener? _listener;
    private double _sum;

    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _metrics = new ForgeJobsMetrics();
        if (Listening)
        {
            _listener = new MeterListener { InstrumentPublished = (instrument, listener) => listener.EnableMeasurementEvents(instrument) };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => _sum += value);
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => _sum += value);
            _listener.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _listener?.Dispose();
        _metrics?.Dispose();
    }

    [Benchmark]
    public void Attempt()
    {
        _metrics!.Started(_job);
        _metrics.Completed(_job, CompletionOutcome.Succeeded, TimeSpan.FromMilliseconds(12));
    }
}
