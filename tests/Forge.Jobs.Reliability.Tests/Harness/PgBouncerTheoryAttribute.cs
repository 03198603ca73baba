namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>A full-set scenario behind PgBouncer, run once per case: skipped, with the command that runs it, unless
/// <c>FORGE_RELIABILITY=full</c>, and skipped with how to install PgBouncer when it is missing. Skippable, so that a
/// case may also skip itself (<c>Skip.If</c>) when the test run's server cannot be restarted.</summary>
public sealed class PgBouncerTheoryAttribute : SkippableTheoryAttribute
{
    public PgBouncerTheoryAttribute()
    {
        if (!FullSetFactAttribute.IsOn)
        {
            Skip = $"Part of the full reliability set: {FullSetFactAttribute.EnvironmentVariable}=full dotnet test tests/Forge.Jobs.Reliability.Tests";
        }
        else if (!PgBouncer.IsInstalled)
        {
            Skip = PgBouncer.InstallHint;
        }
    }
}
