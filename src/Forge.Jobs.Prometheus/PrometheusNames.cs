using System.Diagnostics.Metrics;

namespace Forge.Jobs.Prometheus;

/// <summary>Prometheus names for the instruments of the <c>Forge.Jobs</c> meter, after Prometheus' conventions: dots
/// become underscores, seconds get <c>_seconds</c>, counters <c>_total</c> (<c>forge.jobs.duration</c> is
/// <c>forge_jobs_duration_seconds</c>, <c>forge.jobs.enqueued</c> is <c>forge_jobs_enqueued_total</c>).</summary>
internal static class PrometheusNames
{
    public static string Of(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        if (instrument.Unit == "s")
        {
            name += "_seconds";
        }

        return instrument is Counter<long> or Counter<int> or Counter<double> ? name + "_total" : name;
    }
}
