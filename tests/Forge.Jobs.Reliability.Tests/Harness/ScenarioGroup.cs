namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>Scenarios run one at a time: each loads the two cores with node processes and injects faults whose
/// timing the others would disturb.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScenarioGroup
{
    public const string Name = "scenarios";
}
