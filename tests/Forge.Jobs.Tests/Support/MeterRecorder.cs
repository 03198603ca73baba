using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Forge.Jobs.Tests.Support;

/// <summary>One measurement: its value and tags.</summary>
internal sealed record Measured(double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public bool Has(string tag, string value) => Tags.TryGetValue(tag, out var found) && Equals(found, value);
}

/// <summary>Records every measurement of one meter instance (not of others of the same name, which other tests make).</summary>
internal sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Measured>> _measurements = new(StringComparer.Ordinal);

    public MeterRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<Measured> Of(string instrument) =>
        _measurements.TryGetValue(instrument, out var found) ? [.. found] : [];

    /// <summary>Reads the observable instruments now; their measurements are recorded like any other.</summary>
    public void Observe() => _listener.RecordObservableInstruments();

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, tagValue) in tags)
        {
            copy[key] = tagValue;
        }

        _measurements.GetOrAdd(instrument.Name, _ => new ConcurrentQueue<Measured>()).Enqueue(new Measured(value, copy));
    }
}
