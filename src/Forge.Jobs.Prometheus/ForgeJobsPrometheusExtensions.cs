using Forge.Jobs.Prometheus;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Forge.Jobs;

/// <summary>Exports the <c>Forge.Jobs</c> meter in the Prometheus text format (docs/observability.md).</summary>
public static class ForgeJobsPrometheusExtensions
{
    /// <summary>Keeps prometheus-net collectors in step with this application's <c>Forge.Jobs</c> meter, from the host's
    /// start: counters, histograms, and gauges read at each scrape. Serve them with <see cref="MapForgeMetrics"/>, or with
    /// any prometheus-net server (such as <c>MetricServer</c> or <c>KestrelMetricServer</c>) on the same registry.</summary>
    /// <param name="services">The application's services, on which <c>AddForgeJobs</c> is called too.</param>
    /// <param name="registry">Where the collectors go; prometheus-net's <c>Metrics.DefaultRegistry</c> when omitted, so
    /// that they are served with the application's other prometheus-net metrics.</param>
    /// <exception cref="InvalidOperationException">Called a second time on the same services.</exception>
    public static IServiceCollection AddForgeJobsPrometheus(this IServiceCollection services, CollectorRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(ForgeMetricsRegistry)))
        {
            throw new InvalidOperationException("AddForgeJobsPrometheus was called twice. Call it once; pass the registry to export to, if not prometheus-net's default one.");
        }

        services.AddMetrics();
        services.AddSingleton(new ForgeMetricsRegistry(registry ?? Metrics.DefaultRegistry));
        services.AddSingleton<PrometheusBridge>(static sp => new(sp.GetRequiredService<ForgeMetricsRegistry>().Registry, sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddHostedService(static sp => sp.GetRequiredService<PrometheusBridge>());
        return services;
    }

    /// <summary>Serves the registry of <see cref="AddForgeJobsPrometheus"/> at <paramref name="pattern"/> in the Prometheus
    /// text format (version 0.0.4). Returns the endpoint, to which the host adds its own authorization or host filter.</summary>
    /// <param name="endpoints">The application's routes.</param>
    /// <param name="pattern">The route; <c>/metrics</c> by default.</param>
    /// <exception cref="InvalidOperationException"><see cref="AddForgeJobsPrometheus"/> was not called.</exception>
    public static IEndpointConventionBuilder MapForgeMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var registry = endpoints.ServiceProvider.GetService<ForgeMetricsRegistry>()?.Registry
            ?? throw new InvalidOperationException("MapForgeMetrics serves what AddForgeJobsPrometheus exports: call builder.Services.AddForgeJobsPrometheus() before building the app.");
        return endpoints.MapGet(pattern, async context =>
        {
            context.Response.ContentType = PrometheusConstants.ExporterContentTypeValue.ToString();
            await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });
    }
}
