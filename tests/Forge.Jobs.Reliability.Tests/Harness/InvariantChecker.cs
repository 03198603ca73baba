using System.Globalization;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>A broken invariant, with the jobs (or node) that break it.</summary>
internal sealed record Violation(string Invariant, string Rule, IReadOnlyList<string> Subjects, string Detail)
{
    public override string ToString() =>
        $"{Invariant} ({Rule}) broken for {string.Join(", ", Subjects.Take(20))}{(Subjects.Count > 20 ? $" and {Subjects.Count - 20} more" : "")}: {Detail}";
}

/// <summary>Judges a scenario's evidence against the invariants of the reliability suite.</summary>
internal static class InvariantChecker
{
    private static readonly HashSet<string> Terminal = ["succeeded", "dead", "cancelled"];

    public static IReadOnlyList<Violation> Check(Evidence evidence)
    {
        var executions = evidence.Executions.GroupBy(e => e.JobId).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Start).ThenBy(e => e.Attempt).ToList());
        var jobs = evidence.Jobs.ToDictionary(j => j.Id);
        var violations = new List<Violation>();
        Add(violations, "I1", "every enqueued job is stored and terminal, or legitimately pending", NotTerminal(evidence, jobs));
        Add(violations, "I2", "exactly one success per succeeded job", SuccessCount(jobs, executions));
        Add(violations, "I3", "no two executions of one (job, attempt) overlap", SameAttemptOverlap(executions));
        Add(violations, "I4", "no two live-lease executions of one job overlap", LiveLeaseOverlap(executions, evidence.Faults));
        Add(violations, "I5", "the attempt never decreases", AttemptDecrease(executions));
        Add(violations, "I6", "re-runs happen only after a failure or an injected fault", UnexplainedRerun(executions, evidence.Faults));
        violations.AddRange(NotAtBaseline(evidence.QuietNodes));
        return violations;
    }

    /// <summary>Throws an exception that names every broken invariant and its jobs.</summary>
    public static void Assert(Evidence evidence)
    {
        var violations = Check(evidence);
        if (violations.Count > 0)
        {
            throw new InvariantViolationException(violations);
        }
    }

    private static void Add(List<Violation> violations, string invariant, string rule, IEnumerable<(long JobId, string Detail)> found)
    {
        var list = found.ToList();
        if (list.Count > 0)
        {
            violations.Add(new Violation(invariant, rule, [.. list.Select(f => $"job {f.JobId}")], string.Join("; ", list.Take(5).Select(f => $"job {f.JobId}: {f.Detail}"))));
        }
    }

    private static IEnumerable<(long, string)> NotTerminal(Evidence evidence, Dictionary<long, StoredJob> jobs)
    {
        foreach (var id in evidence.Enqueued)
        {
            if (!jobs.TryGetValue(id, out var job))
            {
                yield return (id, "enqueue returned its id, but the store does not hold it (lost)");
            }
            else if (!Terminal.Contains(job.State) && !evidence.MayBePending.Contains(id))
            {
                yield return (id, $"still {job.State}");
            }
        }
    }

    private static IEnumerable<(long, string)> SuccessCount(Dictionary<long, StoredJob> jobs, Dictionary<long, List<Execution>> executions)
    {
        foreach (var job in jobs.Values.Where(j => j.State == "succeeded"))
        {
            var runs = executions.GetValueOrDefault(job.Id) ?? [];
            var successes = runs.Count(e => e.Attempt == job.Attempt && e.Outcome == "returned");
            var later = runs.Count(e => e.Attempt > job.Attempt);
            if (successes != 1 || later > 0)
            {
                yield return (job.Id, $"succeeded at attempt {job.Attempt}, with {successes} returned run(s) of that attempt and {later} run(s) of later attempts");
            }
        }
    }

    private static IEnumerable<(long, string)> SameAttemptOverlap(Dictionary<long, List<Execution>> executions)
    {
        foreach (var (jobId, runs) in executions)
        {
            foreach (var group in runs.GroupBy(e => e.Attempt).Where(g => g.Count() > 1))
            {
                var ordered = group.ToList();
                for (var i = 1; i < ordered.Count; i++)
                {
                    if (ordered[i].Start < (ordered[i - 1].End ?? DateTime.MaxValue))
                    {
                        yield return (jobId, $"attempt {group.Key} ran on {ordered[i - 1].Node} and {ordered[i].Node} at once");
                    }
                }
            }
        }
    }

    private static IEnumerable<(long, string)> LiveLeaseOverlap(Dictionary<long, List<Execution>> executions, IReadOnlyCollection<Fault> faults)
    {
        foreach (var (jobId, runs) in executions)
        {
            for (var i = 1; i < runs.Count; i++)
            {
                var earlier = runs[i - 1];
                if (runs[i].Start < LiveEnd(earlier, faults))
                {
                    yield return (jobId, $"attempt {runs[i].Attempt} started on {runs[i].Node} at {Time(runs[i].Start)} while attempt {earlier.Attempt} on {earlier.Node} still held a live lease (it ran until {(earlier.End is { } end ? Time(end) : "never ended")}, with no fault on its node)");
                }
            }
        }
    }

    // A run's lease is live until it ends, or until a fault on its node (or on all nodes) cut it off.
    private static DateTime LiveEnd(Execution execution, IReadOnlyCollection<Fault> faults)
    {
        var end = execution.End ?? DateTime.MaxValue;
        foreach (var fault in faults)
        {
            if (fault.Touches(execution) && fault.Start < end)
            {
                end = fault.Start < execution.Start ? execution.Start : fault.Start;
            }
        }

        return end;
    }

    private static IEnumerable<(long, string)> AttemptDecrease(Dictionary<long, List<Execution>> executions)
    {
        foreach (var (jobId, runs) in executions)
        {
            for (var i = 1; i < runs.Count; i++)
            {
                if (runs[i].Attempt < runs[i - 1].Attempt)
                {
                    yield return (jobId, $"attempt {runs[i].Attempt} started after attempt {runs[i - 1].Attempt}");
                }
            }
        }
    }

    private static IEnumerable<(long, string)> UnexplainedRerun(Dictionary<long, List<Execution>> executions, IReadOnlyCollection<Fault> faults)
    {
        foreach (var (jobId, runs) in executions)
        {
            for (var i = 0; i < runs.Count - 1; i++)
            {
                var run = runs[i];
                if (run.Outcome != "threw" && !faults.Any(f => f.Touches(run) || f.CaughtUnstored(run, runs[i + 1].Start)))
                {
                    yield return (jobId, $"attempt {run.Attempt} on {run.Node} {(run.Outcome is null ? "never ended" : run.Outcome)} and the job ran again, with no failure and no fault to explain it");
                }
            }
        }
    }

    private static IEnumerable<Violation> NotAtBaseline(IReadOnlyCollection<QuietNode> nodes)
    {
        var busy = nodes.Where(n => n.Load.HeldSlots != 0 || n.Load.Running != 0 || n.Load.QueuedOutcomes != 0 || n.BusyConnections != 0).ToList();
        if (busy.Count > 0)
        {
            yield return new Violation("I7", "after quiet, executor slots, channels and pool connections are back at baseline", [.. busy.Select(n => $"node {n.Node}")],
                string.Join("; ", busy.Select(n => $"node {n.Node} holds {n.Load.HeldSlots} slot(s), runs {n.Load.Running}, has {n.Load.QueuedOutcomes} outcome(s) queued and {n.BusyConnections} busy connection(s)")));
        }
    }

    private static string Time(DateTime time) => time.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
}

/// <summary>Thrown when a scenario's evidence breaks an invariant; the message names each invariant and its jobs.</summary>
internal sealed class InvariantViolationException(IReadOnlyList<Violation> violations, string? nodeOutput = null)
    : Exception($"{violations.Count} invariant(s) broken:\n{string.Join("\n", violations)}{(nodeOutput is null ? "" : $"\nNode output:\n{nodeOutput}")}")
{
    public IReadOnlyList<Violation> Violations { get; } = violations;
}
