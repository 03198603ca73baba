using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Workflows;

/// <summary>Turns workflow steps into rows for one insert: parents before children, each step's parents resolved to
/// the row index of a step or to a stored job.</summary>
internal static class WorkflowPlanner
{
    public static (List<NewJob> Rows, string[] Steps) Plan(IReadOnlyList<WorkflowStep> steps, JobTypeRegistry registry)
    {
        if (steps.Count == 0)
        {
            throw new ArgumentException("The workflow has no steps; add at least one with Workflow.Add.");
        }

        var index = new Dictionary<string, int>(steps.Count, StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            index.Add(steps[i].Name, i);
        }

        foreach (var step in steps)
        {
            foreach (var dependency in step.DependsOn)
            {
                if (dependency.Step is { } parent && !index.ContainsKey(parent))
                {
                    throw new ArgumentException($"Step '{step.Name}' depends on step '{parent}', which the workflow does not have. Add it, or fix the name.");
                }
            }
        }

        var order = TopologicalOrder(steps, index);
        var rowOf = new int[steps.Count];
        for (var row = 0; row < order.Length; row++)
        {
            rowOf[order[row]] = row;
        }

        var rows = new List<NewJob>(steps.Count);
        var names = new string[steps.Count];
        foreach (var i in order)
        {
            var step = steps[i];
            var parents = step.DependsOn
                .Select(d => d.Step is { } parent
                    ? new NewDependency(null, rowOf[index[parent]], d.RunAnyway)
                    : new NewDependency(d.Job, null, d.RunAnyway))
                .ToArray();
            rows.Add(step.CreateRow(registry) with { DependsOn = parents });
            names[rows.Count - 1] = step.Name;
        }

        return (rows, names);
    }

    /// <summary>Kahn's algorithm, stable in the order steps were added.</summary>
    /// <exception cref="ArgumentException">The steps form a cycle; the message names one.</exception>
    private static int[] TopologicalOrder(IReadOnlyList<WorkflowStep> steps, Dictionary<string, int> index)
    {
        var children = new List<int>[steps.Count];
        var pending = new int[steps.Count];
        for (var i = 0; i < steps.Count; i++)
        {
            children[i] = [];
        }

        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var parent in steps[i].DependsOn.Where(d => d.Step is not null).Select(d => index[d.Step!]).Distinct())
            {
                children[parent].Add(i);
                pending[i]++;
            }
        }

        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < steps.Count; i++)
        {
            if (pending[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new List<int>(steps.Count);
        while (ready.TryDequeue(out var next, out _))
        {
            order.Add(next);
            foreach (var child in children[next])
            {
                if (--pending[child] == 0)
                {
                    ready.Enqueue(child, child);
                }
            }
        }

        if (order.Count < steps.Count)
        {
            throw new ArgumentException($"The workflow's steps form a cycle: {DescribeCycle(steps, index, pending)}. A step cannot wait for itself; remove one of these dependencies.");
        }

        return [.. order];
    }

    /// <summary>Walks parent links from a step Kahn's algorithm left behind until a step repeats: that loop is a
    /// cycle. Told as "a → b → c → a", where each step runs before the next.</summary>
    private static string DescribeCycle(IReadOnlyList<WorkflowStep> steps, Dictionary<string, int> index, int[] pending)
    {
        var current = Array.FindIndex(pending, p => p > 0);
        var path = new List<int>();
        var seen = new Dictionary<int, int>();
        while (!seen.ContainsKey(current))
        {
            seen[current] = path.Count;
            path.Add(current);
            current = steps[current].DependsOn
                .Where(d => d.Step is not null)
                .Select(d => index[d.Step!])
                .First(parent => pending[parent] > 0);
        }

        // Parents first, starting from the step added first, so the same cycle is always told the same way.
        var loop = path.Skip(seen[current]).Reverse().ToList();
        var first = loop.IndexOf(loop.Min());
        var cycle = loop.Skip(first).Concat(loop.Take(first)).Select(i => steps[i].Name).ToList();
        cycle.Add(cycle[0]);
        return string.Join(" → ", cycle);
    }
}
