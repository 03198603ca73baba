using Prometheus;

namespace Forge.Jobs.Prometheus;

/// <summary>The registry the Forge.Jobs collectors go to, kept apart from any registry the host registers itself.</summary>
internal sealed record ForgeMetricsRegistry(CollectorRegistry Registry);
