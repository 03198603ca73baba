using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Forge.Jobs.LoadTest;

/// <summary>The figures of one run of one system: printed as a table for people and as one <c>result</c> line for
/// scripts.</summary>
internal sealed class RunResult(string mode, string system, long jobs, double seconds)
{
    private readonly List<(string Key, string Value, string Label)> _extras = [];

    public string Mode { get; } = mode;

    public string System { get; } = system;

    public long Jobs { get; } = jobs;

    public double Seconds { get; } = seconds;

    public double JobsPerSecond => Seconds > 0 ? Jobs / Seconds : 0;

    /// <summary>Latency percentiles in milliseconds (p50, p95, p99), when the mode measures latency.</summary>
    public (double P50, double P95, double P99)? Latency { get; private set; }

    public double RssMegabytes { get; set; }

    public RunResult WithLatency(ReadOnlySpan<long> stopwatchTicks)
    {
        if (stopwatchTicks.Length > 0)
        {
            var sorted = stopwatchTicks.ToArray();
            Array.Sort(sorted);
            Latency = (Percentile(sorted, 0.50), Percentile(sorted, 0.95), Percentile(sorted, 0.99));
        }

        return this;
    }

    public RunResult With(string key, double value, string label)
    {
        _extras.Add((key, Format(value), label));
        return this;
    }

    public double? Extra(string key) =>
        _extras.FirstOrDefault(e => e.Key == key) is { Key: not null } extra ? double.Parse(extra.Value, CultureInfo.InvariantCulture) : null;

    public void PrintTable()
    {
        Console.WriteLine();
        Console.WriteLine($"{Mode} · {System}");
        Row("jobs", Jobs.ToString("N0", CultureInfo.InvariantCulture));
        Row("seconds", Seconds.ToString("F2", CultureInfo.InvariantCulture));
        Row("jobs/s", JobsPerSecond.ToString("N0", CultureInfo.InvariantCulture));
        if (Latency is var (p50, p95, p99))
        {
            Row("latency p50 / p95 / p99", $"{p50:F2} / {p95:F2} / {p99:F2} ms");
        }

        foreach (var (_, value, label) in _extras)
        {
            Row(label, value);
        }

        Row("peak RSS", $"{RssMegabytes:F0} MB");
    }

    public string ResultLine()
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"result mode={Mode} system={System} jobs={Jobs} seconds={Format(Seconds)} jobs_per_s={Format(JobsPerSecond)}");
        var (p50, p95, p99) = Latency ?? (double.NaN, double.NaN, double.NaN);
        line.Append(CultureInfo.InvariantCulture, $" p50_ms={Format(p50)} p95_ms={Format(p95)} p99_ms={Format(p99)} rss_mb={Format(RssMegabytes)}");
        foreach (var (key, value, _) in _extras)
        {
            line.Append(CultureInfo.InvariantCulture, $" {key}={value}");
        }

        return line.ToString();
    }

    private static void Row(string label, string value) => Console.WriteLine($"  {label,-34} {value}");

    private static string Format(double value) =>
        double.IsNaN(value) ? "na" : value.ToString(value >= 100 || value == Math.Floor(value) ? "F0" : "F2", CultureInfo.InvariantCulture);

    private static double Percentile(long[] sorted, double p) =>
        sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)] * 1000.0 / Stopwatch.Frequency;
}
