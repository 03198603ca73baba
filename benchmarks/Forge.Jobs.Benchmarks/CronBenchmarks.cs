using BenchmarkDotNet.Attributes;
using Cronos;
using Forge.Jobs.Scheduling;

namespace Forge.Jobs.Benchmarks;

/// <summary>Cron work of the scheduler for "*/5 * * * *": reading the expression (the scheduler does it on every
/// fire), the next occurrence from a time between two, and <see cref="CronPlanner.Plan"/> for a fire on time (one
/// occurrence due) and after a day-long outage with <see cref="MisfirePolicy.RunOnce"/>.</summary>
[MemoryDiagnoser]
public class CronBenchmarks
{
    private const string Expression = "*/5 * * * *";

    private static readonly DateTimeOffset Now = new(2025, 3, 14, 10, 2, 30, TimeSpan.Zero);
    private static readonly DateTimeOffset DueOccurrence = new(2025, 3, 14, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MisfireThreshold = TimeSpan.FromMinutes(1);

    private CronExpression? _cron;
    private TimeZoneInfo _zone = TimeZoneInfo.Utc;

    [Params("UTC", "Europe/Berlin")]
    public string Zone { get; set; } = "UTC";

    [GlobalSetup]
    public void Setup()
    {
        _cron = CronExpressions.Parse(Expression, "cronExpression");
        _zone = CronExpressions.TryFindZone(Zone, out var zone) ? zone : throw new InvalidOperationException($"No time zone '{Zone}' on this machine.");
    }

    [Benchmark]
    public CronExpression? ParseAndFindZone() =>
        CronExpressions.TryParse(Expression, out var cron, out _) && CronExpressions.TryFindZone(Zone, out _) ? cron : null;

    [Benchmark]
    public DateTimeOffset? NextOccurrence() => CronExpressions.NextAtOrAfter(_cron!, Now, _zone);

    [Benchmark]
    public object PlanOnTime() =>
        CronPlanner.Plan(_cron!, _zone, MisfirePolicy.Skip, DueOccurrence, Now, MisfireThreshold, limit: 100);

    [Benchmark]
    public object PlanAfterOutage() =>
        CronPlanner.Plan(_cron!, _zone, MisfirePolicy.RunOnce, DueOccurrence.AddDays(-1), Now, MisfireThreshold, limit: 100);
}
