namespace Forge.Jobs;

/// <summary>A parent a job waits for: an existing job, or a step of the same <see cref="Workflow"/>. The child
/// stays <see cref="JobState.Waiting"/> until every parent has finished. By default a parent that ends dead or
/// cancelled cancels the child (and, through it, the child's own descendants); a dependency made with
/// <see cref="Finished(JobId)"/> lets the child run whatever that parent's outcome.</summary>
/// <remarks>A <see cref="JobId"/> or a step name converts to a dependency that must succeed, so
/// <c>DependsOn = [parentId]</c> and, in a workflow, <c>DependsOn = ["extract"]</c> both work.</remarks>
public readonly record struct JobDependency
{
    private JobDependency(JobId? job, string? step, bool runAnyway)
    {
        Job = job;
        Step = step;
        RunAnyway = runAnyway;
    }

    /// <summary>The existing job depended on, when the parent is not a workflow step.</summary>
    public JobId? Job { get; }

    /// <summary>The workflow step depended on, when the parent is one.</summary>
    public string? Step { get; }

    /// <summary>Whether the child runs even when this parent ends dead or cancelled.</summary>
    public bool RunAnyway { get; }

    /// <summary>Waits for <paramref name="job"/> to succeed; if it ends dead or cancelled, the child is cancelled.</summary>
    public static JobDependency On(JobId job) => new(job, null, runAnyway: false);

    /// <summary>Waits for the workflow step <paramref name="step"/> to succeed; if it ends dead or cancelled, the child is cancelled.</summary>
    public static JobDependency On(string step) => new(null, step, runAnyway: false);

    /// <summary>Waits for <paramref name="job"/> to finish, and runs the child whatever its outcome.</summary>
    public static JobDependency Finished(JobId job) => new(job, null, runAnyway: true);

    /// <summary>Waits for the workflow step <paramref name="step"/> to finish, and runs the child whatever its outcome.</summary>
    public static JobDependency Finished(string step) => new(null, step, runAnyway: true);

    /// <summary>Same as <see cref="On(JobId)"/>.</summary>
    public static implicit operator JobDependency(JobId job) => On(job);

    /// <summary>Same as <see cref="On(string)"/>.</summary>
    public static implicit operator JobDependency(string step) => On(step);

    /// <summary>The parent as written: <c>job 42</c> or <c>step 'extract'</c>, with <c>(finished)</c> for a run-anyway dependency.</summary>
    public override string ToString() =>
        (Job is { } job ? $"job {job}" : $"step '{Step}'") + (RunAnyway ? " (finished)" : "");
}
