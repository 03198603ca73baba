using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Workflows;

namespace Forge.Jobs;

/// <summary>Jobs with named steps and dependencies between them, enqueued together by
/// <see cref="IJobClient.EnqueueWorkflowAsync(Workflow, CancellationToken)"/> in one round trip and one
/// transaction. A step names its parents in <see cref="JobOptions.DependsOn"/>, by step name or by the id of a job
/// stored earlier; it waits until they have finished (see <see cref="JobDependency"/>).</summary>
/// <example>
/// <code>
/// var workflow = new Workflow()
///     .Add("extract", new Extract(source))
///     .Add("clean", new Clean(), dependsOn: ["extract"])
///     .Add("index", new Index(), dependsOn: ["extract"])
///     .Add("report", new Report(), dependsOn: ["clean", JobDependency.Finished("index")]);
/// IReadOnlyDictionary&lt;string, JobId&gt; ids = await jobs.EnqueueWorkflowAsync(workflow);
/// </code>
/// </example>
public sealed class Workflow
{
    private readonly List<WorkflowStep> _steps = [];

    /// <summary>How many steps the workflow has.</summary>
    public int Count => _steps.Count;

    /// <summary>Adds a step.</summary>
    /// <param name="step">The step's name, unique in the workflow: 1 to 128 characters.</param>
    /// <param name="job">The step's payload.</param>
    /// <param name="options">How the step runs, and its parents in <see cref="JobOptions.DependsOn"/>. An
    /// <see cref="JobOptions.IdempotencyKey"/> is not allowed on a step.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or already used.</exception>
    public Workflow Add<TJob>(string step, TJob job, JobOptions? options = null) =>
        Add(step, job, options?.DependsOn ?? [], options, nameof(options));

    /// <summary>Adds a step that waits for <paramref name="dependsOn"/>.</summary>
    /// <param name="step">The step's name, unique in the workflow: 1 to 128 characters.</param>
    /// <param name="job">The step's payload.</param>
    /// <param name="dependsOn">The step's parents: step names, job ids, or <see cref="JobDependency"/> values.</param>
    /// <param name="options">How the step runs; its <see cref="JobOptions.DependsOn"/> must be unset.</param>
    /// <exception cref="ArgumentException">The name is empty, too long or already used, or the parents are given twice.</exception>
    public Workflow Add<TJob>(string step, TJob job, IReadOnlyList<JobDependency> dependsOn, JobOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dependsOn);
        if (options?.DependsOn is not null)
        {
            throw new ArgumentException($"Step '{step}' gives its parents twice: in dependsOn and in JobOptions.DependsOn. Give them once.", nameof(options));
        }

        return Add(step, job, dependsOn, options, nameof(dependsOn));
    }

    private Workflow Add<TJob>(string step, TJob job, IReadOnlyList<JobDependency> dependsOn, JobOptions? options, string parameter)
    {
        ArgumentNullException.ThrowIfNull(job);
        WorkflowStep.ValidateName(step, _steps);
        NewJobs.ValidateDependencies(dependsOn, JobGroup.WorkflowStep, parameter);
        _steps.Add(new WorkflowStep(step, dependsOn, registry => NewJobs.Create(job, options, registry, JobGroup.WorkflowStep)));
        return this;
    }

    /// <summary>The rows to insert, parents before children, with step dependencies resolved to row indexes.</summary>
    /// <exception cref="ArgumentException">A step names an unknown step, or the steps form a cycle.</exception>
    internal (List<NewJob> Rows, string[] Steps) Plan(JobTypeRegistry registry) => WorkflowPlanner.Plan(_steps, registry);
}
