using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Forge.Jobs.Diagnostics;
using Forge.Jobs.Prometheus;
using YamlDotNet.RepresentationModel;

namespace Forge.Jobs.Tests.Diagnostics;

/// <summary>The Grafana dashboard and the Prometheus alert rules under deploy/: they parse, and every Forge.Jobs metric
/// they query is one the Prometheus bridge exports.</summary>
public sealed partial class DeployFilesTests
{
    private static readonly string Deploy = Path.Combine(RepositoryRoot(), "deploy");

    [Fact]
    public void GrafanaDashboard_ParsesAndQueriesOnlyExportedMetrics()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Deploy, "grafana", "forge-jobs.json")));
        var expressions = dashboard.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(panel => panel.GetProperty("targets").EnumerateArray())
            .Select(target => target.GetProperty("expr").GetString()!)
            .ToList();

        Assert.Equal("forge-jobs", dashboard.RootElement.GetProperty("uid").GetString());
        Assert.True(expressions.Count >= 10, $"The dashboard has {expressions.Count} queries.");
        AssertOnlyExportedMetrics(expressions);
    }

    [Fact]
    public void AlertRules_ParseAndCoverTheDocumentedAlerts_QueryingOnlyExportedMetrics()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Deploy, "prometheus", "forge-jobs-alerts.yml")))
        {
            yaml.Load(reader);
        }

        var rules = ((YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["groups"]).Children
            .SelectMany(group => ((YamlSequenceNode)((YamlMappingNode)group)["rules"]).Children.Cast<YamlMappingNode>())
            .ToList();
        var alerts = rules.Select(rule => ((YamlScalarNode)rule["alert"]).Value!).ToList();

        Assert.Equal(["ForgeJobsBacklogGrowing", "ForgeJobsDeadLetterGrowing", "ForgeJobsFailureRateHigh", "ForgeJobsNoLiveNodes", "ForgeJobsPickupLatencyHigh"], alerts.Order());
        Assert.All(rules, rule => Assert.True(rule.Children.ContainsKey("for") && rule.Children.ContainsKey("labels") && rule.Children.ContainsKey("annotations")));
        AssertOnlyExportedMetrics(rules.Select(rule => ((YamlScalarNode)rule["expr"]).Value!));
    }

    // Every forge_jobs_* name in the queries is an exported metric, or a histogram's _bucket, _sum or _count series.
    private static void AssertOnlyExportedMetrics(IEnumerable<string> expressions)
    {
        var exported = ExportedMetrics();
        var referenced = expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).Distinct().ToList();

        Assert.NotEmpty(referenced);
        Assert.All(referenced, name => Assert.True(exported.Contains(name), $"{name} is not a metric of Forge.Jobs.Prometheus; it exports {string.Join(", ", exported.Order())}."));
    }

    // The Prometheus names of every instrument of the Forge.Jobs meter, with the series of its histograms.
    private static HashSet<string> ExportedMetrics()
    {
        using var metrics = new ForgeJobsMetrics();
        metrics.ObserveRunning(() => 0);
        metrics.ObserveCluster(() => null);
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter))
                {
                    var name = PrometheusNames.Of(instrument);
                    names.Add(name);
                    if (instrument is Histogram<double>)
                    {
                        names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
                    }
                }
            },
        };
        listener.Start();
        return names;
    }

    internal static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Forge.Jobs.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException($"No Forge.Jobs.sln above {AppContext.BaseDirectory}.");
    }

    [GeneratedRegex("forge_jobs_[a-z_]+")]
    private static partial Regex MetricName();
}
