using System.Diagnostics.Metrics;
using System.Reflection;
using Forge.Jobs.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Tests.Diagnostics;

/// <summary>docs/observability.md lists every instrument of the meter and every log event, as the code defines them.</summary>
public sealed class ObservabilityDocsTests
{
    private static readonly string Page = File.ReadAllText(Path.Combine(DeployFilesTests.RepositoryRoot(), "docs", "observability.md"));

    [Fact]
    public void EveryInstrumentOfTheMeter_HasARowInTheMetricsTables()
    {
        using var metrics = new ForgeJobsMetrics();
        metrics.ObserveRunning(() => 0);
        metrics.ObserveCluster(() => null);
        var names = new List<string>();
        using (var listener = new MeterListener { InstrumentPublished = (instrument, _) => { if (ReferenceEquals(instrument.Meter, metrics.Meter)) names.Add(instrument.Name); } })
        {
            listener.Start();
        }

        Assert.Equal(11, names.Count);
        Assert.All(names, name => Assert.Contains($"| `{name}` |", Page, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryLogEvent_HasARowWithItsIdAndLevel()
    {
        var events = typeof(ForgeJobsMetrics).Assembly.GetTypes()
            .Where(type => type.Namespace == "Forge.Jobs.Diagnostics" && type.Name == "Log")
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Select(method => method.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .ToList();

        Assert.True(events.Count >= 40, $"Found {events.Count} log events.");
        Assert.All(events, e => Assert.Contains($"| {e.EventId} | {e.Level} |", Page, StringComparison.Ordinal));
    }
}
