using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace Forge.Jobs.Prometheus;

/// <summary>Listens to the <c>Forge.Jobs</c> meter of this application (the one its <see cref="IMeterFactory"/> made, not
/// another application's in the same process) and keeps prometheus-net collectors in step: counters and histograms as
/// measurements arrive, gauges read just before each scrape. Collectors are made at their first measurement, with the
/// tags of that measurement as their labels; a gauge's series that a reading no longer reports (a queue gone, a node no
/// longer the leader) is removed, so no stale value is scraped.</summary>
internal sealed class PrometheusBridge : IHostedService, IDisposable
{
    private const string MeterName = "Forge.Jobs";

    private readonly MeterListener _listener = new();
    private readonly MetricFactory _factory;
    private readonly ConcurrentDictionary<Instrument, Collector> _collectors = new();
    private readonly Lock _observing = new();
    private readonly HashSet<(Collector Gauge, string Labels)> _observed = [];

    public PrometheusBridge(CollectorRegistry registry, IMeterFactory meterFactory)
    {
        _factory = Metrics.WithCustomRegistry(registry);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        registry.AddBeforeCollectCallback(Observe);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new string[tags.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "";
        }

        var collector = _collectors.GetOrAdd(instrument, static (instrument, state) => state.Bridge.Create(instrument, state.Names), (Bridge: this, Names: LabelNames(tags)));
        switch (collector)
        {
            case Counter counter:
                counter.WithLabels(labels).Inc(value);
                break;
            case Histogram histogram:
                histogram.WithLabels(labels).Observe(value);
                break;
            case Gauge gauge:
                gauge.WithLabels(labels).Set(value);
                _observed.Add((gauge, string.Join('\u001f', labels)));
                break;
        }
    }

    // Before each scrape: reads the gauges, then drops the series this reading did not report.
    private void Observe()
    {
        lock (_observing)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            foreach (var gauge in _collectors.Values.OfType<Gauge>())
            {
                foreach (var labels in gauge.GetAllLabelValues().ToList())
                {
                    if (!_observed.Contains((gauge, string.Join('\u001f', labels))))
                    {
                        gauge.RemoveLabelled(labels);
                    }
                }

                if (gauge.LabelNames.Length == 0 && !_observed.Contains((gauge, "")))
                {
                    gauge.Unpublish();
                }
            }
        }
    }

    private Collector Create(Instrument instrument, string[] labelNames)
    {
        var name = PrometheusNames.Of(instrument);
        var help = instrument.Description ?? instrument.Name;
        return instrument switch
        {
            Counter<long> or Counter<int> or Counter<double> => _factory.CreateCounter(name, help, labelNames),
            Histogram<double> histogram => _factory.CreateHistogram(name, help, new HistogramConfiguration
            {
                LabelNames = labelNames,
                Buckets = histogram.Advice?.HistogramBucketBoundaries?.ToArray() ?? Histogram.ExponentialBuckets(0.005, 2, 20),
            }),
            _ => _factory.CreateGauge(name, help, labelNames),
        };
    }

    private static string[] LabelNames(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var names = new string[tags.Length];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = tags[i].Key;
        }

        return names;
    }
}
