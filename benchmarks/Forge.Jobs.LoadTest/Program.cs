using System.Globalization;
using Forge.Jobs.LoadTest;

try
{
    var arguments = Arguments.Parse(args);
    return arguments.Mode == "node" ? await NodeProgram.RunAsync(arguments) : await LoadTest.RunAsync(arguments);
}
catch (UsageException usage)
{
    Console.Error.WriteLine(usage.Message);
    Console.Error.WriteLine(LoadTest.Usage);
    return 2;
}

namespace Forge.Jobs.LoadTest
{
    /// <summary>Runs one mode against Forge.Jobs, and with <c>--compare</c> against another system on the same server.</summary>
    internal static class LoadTest
    {
        public const string Usage = """
            usage: Forge.Jobs.LoadTest <mode> [options]
              drain     --jobs N (100000) --concurrency C (100) [--finished M]   time N pre-enqueued no-op jobs to succeed
              enqueue   --jobs N (100000) --batch B (1000) --single-jobs S (5000) --callers P (1)
              latency   --rate R (200) --jobs N (2000) [--busy-rate X]          enqueue-to-start, one job at a time
              sustained --rate R (5000) --seconds S (30)                        steady load: achieved rate, pickup
            options for every mode:
              --nodes K (1)              engine processes against the one database
              --concurrency C (100)      handler slots per node
              --connection CS            use this PostgreSQL (schema forge_load is dropped and recreated);
                                         otherwise a throw-away cluster with default settings is started
              --compare hangfire         run the same mode against Hangfire.PostgreSql too, and print the ratios
              --compare-jobs N (2000)    the job count for the compared system in drain, enqueue and latency
              --compare-concurrency C (20)  the compared system's workers per node (its polling grows with them)
            """;

        public static async Task<int> RunAsync(Arguments arguments)
        {
            var mode = arguments.Mode;
            var nodes = arguments.Int("nodes", 1);
            var concurrency = arguments.Int("concurrency", 100);
            var compare = arguments.Text("compare");
            var compareJobs = arguments.Int("compare-jobs", 2000);
            var compareConcurrency = arguments.Int("compare-concurrency", 20);
            var connection = arguments.Text("connection");
            Func<ILoadTarget, int, int, Task<RunResult>> run = mode switch
            {
                "drain" => Drain(arguments, nodes),
                "enqueue" => Enqueue(arguments),
                "latency" => Latency(arguments, nodes),
                "sustained" => Sustained(arguments, nodes),
                _ => throw new UsageException($"Unknown mode '{mode}'."),
            };
            arguments.RejectUnread();
            if (compare is not null && compare != "hangfire")
            {
                throw new UsageException($"--compare takes hangfire; got '{compare}'.");
            }

            await using var server = await PostgresCluster.StartAsync(connection);
            Console.WriteLine($"PostgreSQL: {server.Description}; {Environment.ProcessorCount} cores; .NET {Environment.Version}");
            var results = new List<RunResult>();
            foreach (var system in compare is null ? ["forge"] : new[] { "forge", compare })
            {
                await using var target = Targets.Create(system, server.ConnectionString);
                var result = system == "forge" ? await run(target, -1, concurrency) : await run(target, compareJobs, compareConcurrency);
                result.PrintTable();
                results.Add(result);
            }

            if (results.Count == 2)
            {
                Ratios(results[0], results[1]);
            }

            foreach (var result in Enumerable.Reverse(results))
            {
                Console.WriteLine(result.ResultLine());
            }

            return 0;
        }

        /// <returns>A run: given the target, the job count (-1 for the count on the command line) and the concurrency.</returns>
        private static Func<ILoadTarget, int, int, Task<RunResult>> Drain(Arguments arguments, int nodes)
        {
            var jobs = arguments.Int("jobs", 100_000);
            var finished = arguments.Int("finished", 0, min: 0);
            return (target, n, concurrency) => DrainMode.RunAsync(target, nodes, n < 0 ? jobs : n, concurrency, target is ForgeTarget ? finished : 0);
        }

        private static Func<ILoadTarget, int, int, Task<RunResult>> Enqueue(Arguments arguments)
        {
            var jobs = arguments.Int("jobs", 100_000);
            var batch = arguments.Int("batch", 1000);
            var single = arguments.Int("single-jobs", 5000);
            var callers = arguments.Int("callers", 1);
            return (target, n, _) => EnqueueMode.RunAsync(target, n < 0 ? jobs : n, batch, n < 0 ? single : Math.Min(single, n), callers);
        }

        private static Func<ILoadTarget, int, int, Task<RunResult>> Latency(Arguments arguments, int nodes)
        {
            var rate = arguments.Int("rate", 200);
            var jobs = arguments.Int("jobs", 2000);
            var busyRate = arguments.Int("busy-rate", 0, min: 0);
            return (target, n, concurrency) => LatencyMode.RunAsync(target, nodes, concurrency, rate, n < 0 ? jobs : Math.Min(jobs, n), busyRate);
        }

        private static Func<ILoadTarget, int, int, Task<RunResult>> Sustained(Arguments arguments, int nodes)
        {
            var rate = arguments.Int("rate", 5000);
            var seconds = arguments.Int("seconds", 30);
            return (target, _, concurrency) => SustainedMode.RunAsync(target, nodes, concurrency, rate, seconds);
        }

        /// <summary>How many times better Forge.Jobs did on each figure: higher rates, lower latencies.</summary>
        private static void Ratios(RunResult forge, RunResult other)
        {
            Console.WriteLine();
            Console.WriteLine($"forge vs {other.System} (times better)");
            Ratio(forge, other, "jobs/s", forge.JobsPerSecond, other.JobsPerSecond, higherIsBetter: true);
            if (forge.Latency is var (f50, _, f99) && other.Latency is var (o50, _, o99))
            {
                Ratio(forge, other, "latency p50", f50, o50, higherIsBetter: false, key: "p50");
                Ratio(forge, other, "latency p99", f99, o99, higherIsBetter: false, key: "p99");
            }

            if (forge.Extra("single_jobs_per_s") is { } fs && other.Extra("single_jobs_per_s") is { } os)
            {
                Ratio(forge, other, "one at a time jobs/s", fs, os, higherIsBetter: true, key: "single");
            }
        }

        private static void Ratio(RunResult forge, RunResult other, string label, double mine, double theirs, bool higherIsBetter, string key = "jobs_per_s")
        {
            var ratio = higherIsBetter ? mine / theirs : theirs / mine;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label,-34} {ratio:F1}x"));
            forge.With($"{key}_vs_{other.System}", ratio, $"{label} vs {other.System} (x)");
        }
    }
}
