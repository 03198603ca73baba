using System.Globalization;
using System.Text.RegularExpressions;
using Forge.Jobs.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Tests.Diagnostics;

/// <summary>The Prometheus bridge end to end: an ASP.NET Core app on Kestrel (loopback) runs jobs on PostgreSQL, and a
/// scrape of /metrics over HTTP finds the counters, histograms and gauges with the values the jobs produced.</summary>
public sealed partial class PrometheusEndpointTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task AppOnKestrel_RunsJobs_ScrapeOfMetricsShowsCountersHistogramsAndQueueDepths()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(new Recorder());
        builder.Services.AddForgeJobs(forge => forge
            .UsePostgres(database.ConnectionString, o => o.Schema = "prometheus_scrape")
            .Configure(o => o.ClusterMetricsInterval = TimeSpan.FromMilliseconds(100))
            .AddHandler<PingHandler, Ping>()
            .AddHandler<FailsOnceHandler, FailsOnce>()
            .AddHandler<AlwaysFailsHandler, AlwaysFails>());
        builder.Services.AddForgeJobsPrometheus(global::Prometheus.Metrics.NewCustomRegistry());
        await using var app = builder.Build();
        app.MapForgeMetrics();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()) };
        var client = app.Services.GetRequiredService<IJobClient>();

        var quick = new RetryBackoff { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(1), Jitter = 0 };
        var pings = await client.EnqueueManyAsync([new Ping(1), new Ping(2)]);
        var flaky = await client.EnqueueAsync(new FailsOnce(), new JobOptions { Backoff = quick });
        var doomed = await client.EnqueueAsync(new AlwaysFails(), new JobOptions { MaxRetries = 0 });
        var (ping, flakyType, doomedType) = ((await client.GetJobAsync(pings[0]))!.Type, (await client.GetJobAsync(flaky))!.Type, (await client.GetJobAsync(doomed))!.Type);
        Dictionary<string, double> scraped = [];
        await Wait.For(UntilAsync(async () =>
        {
            scraped = Parse(await http.GetStringAsync("/metrics"));
            return scraped.GetValueOrDefault("forge_jobs_queue_depth{queue=default,state=succeeded}") == 3
                && scraped.GetValueOrDefault("forge_jobs_dead_letter_size{queue=default}") == 1;
        }), "the scrape to show the finished jobs");

        Assert.Equal(2, scraped[$"forge_jobs_enqueued_total{{queue=default,type={ping}}}"]);
        Assert.Equal(4, scraped.Where(s => s.Key.StartsWith("forge_jobs_enqueued_total{", StringComparison.Ordinal)).Sum(s => s.Value));
        Assert.Equal(2, scraped[$"forge_jobs_started_total{{queue=default,type={flakyType}}}"]);
        Assert.Equal(2, scraped[$"forge_jobs_completed_total{{outcome=succeeded,queue=default,type={ping}}}"]);
        Assert.Equal(1, scraped[$"forge_jobs_completed_total{{outcome=retried,queue=default,type={flakyType}}}"]);
        Assert.Equal(1, scraped[$"forge_jobs_completed_total{{outcome=succeeded,queue=default,type={flakyType}}}"]);
        Assert.Equal(1, scraped[$"forge_jobs_completed_total{{outcome=dead,queue=default,type={doomedType}}}"]);
        Assert.Equal(2, scraped[$"forge_jobs_duration_seconds_count{{outcome=succeeded,queue=default,type={ping}}}"]);
        Assert.Equal(2, scraped[$"forge_jobs_duration_seconds_bucket{{le=+Inf,outcome=succeeded,queue=default,type={ping}}}"]);
        Assert.Equal(2, scraped[$"forge_jobs_wait_seconds_count{{queue=default,type={flakyType}}}"]);
        Assert.Equal(1, scraped["forge_jobs_queue_depth{queue=default,state=dead}"]);
        Assert.Equal(0, scraped["forge_jobs_queue_depth{queue=default,state=available}"]);
        Assert.Equal(1, scraped["forge_jobs_nodes_live"]);
        Assert.Equal(0, scraped["forge_jobs_running"]);
        await app.StopAsync();
    }

    // Each sample line of the text format as "name{label=value,...}" (labels sorted by name, quotes dropped) → value.
    private static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            var match = Sample().Match(line);
            Assert.True(match.Success, $"Not a sample line of the Prometheus text format: {line}");
            var labels = Label().Matches(match.Groups["labels"].Value).Select(l => $"{l.Groups[1].Value}={l.Groups[2].Value}").Order(StringComparer.Ordinal);
            var key = match.Groups["labels"].Success ? $"{match.Groups["name"].Value}{{{string.Join(',', labels)}}}" : match.Groups["name"].Value;
            samples[key] = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return samples;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        while (!await condition())
        {
            await Task.Delay(50);
        }
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)$""")]
    private static partial Regex Sample();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"(,|$)""")]
    private static partial Regex Label();
}
