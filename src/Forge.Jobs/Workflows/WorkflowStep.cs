using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Workflows;

/// <summary>One step of a <see cref="Workflow"/>: its name, its parents as written, and how to make its row.</summary>
internal sealed record WorkflowStep(string Name, IReadOnlyList<JobDependency> DependsOn, Func<JobTypeRegistry, NewJob> CreateRow)
{
    public const int MaxNameLength = 128;

    public static void ValidateName(string name, IEnumerable<WorkflowStep> existing)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > MaxNameLength)
        {
            throw new ArgumentException($"The step name '{StoredText.Show(name)}' is {name.Length} characters long; use 1 to {MaxNameLength}.", nameof(name));
        }

        if (existing.Any(step => step.Name == name))
        {
            throw new ArgumentException($"The workflow already has a step named '{StoredText.Show(name)}'; give each step its own name.", nameof(name));
        }
    }
}
