using Xunit.Sdk;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>A scenario of the full set, too long for every build: it runs when <c>FORGE_RELIABILITY=full</c>, and is
/// skipped otherwise with the command that runs it. Like <c>[SkippableFact]</c>, it lets a scenario skip itself with
/// <c>Skip.If</c> when the environment cannot host it.</summary>
[XunitTestCaseDiscoverer("Xunit.Sdk.SkippableFactDiscoverer", "Xunit.SkippableFact")]
public sealed class FullSetFactAttribute : FactAttribute
{
    public const string EnvironmentVariable = "FORGE_RELIABILITY";

    public FullSetFactAttribute()
    {
        if (!IsOn)
        {
            Skip = $"Part of the full reliability set: {EnvironmentVariable}=full dotnet test tests/Forge.Jobs.Reliability.Tests";
        }
    }

    public static bool IsOn => string.Equals(Environment.GetEnvironmentVariable(EnvironmentVariable), "full", StringComparison.OrdinalIgnoreCase);
}
