using Forge.Jobs.Processing;
using Forge.Jobs.Reliability.Tests.Harness;

namespace Forge.Jobs.Reliability.Tests;

/// <summary>The checker itself: fed broken ledgers, it fails with the invariant and the jobs named.</summary>
public sealed class InvariantCheckerTests
{
    private static readonly DateTime T0 = new(2026, 11, 23, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void CleanRun_BreaksNothing()
    {
        var evidence = Evidence(
            [Job(1, "succeeded", 2), Job(2, "dead", 1)],
            [Run(1, 1, "a", 0, 1, "threw"), Run(1, 2, "b", 2, 3, "returned"), Run(2, 1, "a", 0, 1, "threw")]);

        Assert.Empty(InvariantChecker.Check(evidence));
        InvariantChecker.Assert(evidence);
    }

    [Fact]
    public void EnqueuedJobMissingOrStillRunning_BreaksI1()
    {
        var evidence = Evidence([Job(2, "running", 1)], [], enqueued: [1, 2]);

        var violation = Assert.Single(InvariantChecker.Check(evidence));

        Assert.Equal("I1", violation.Invariant);
        Assert.Equal(["job 1", "job 2"], violation.Subjects);
        Assert.Contains("lost", violation.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void PendingJobAllowedByTheScenario_DoesNotBreakI1()
    {
        var evidence = Evidence([Job(1, "scheduled", 0)], [], mayBePending: [1]);

        Assert.Empty(InvariantChecker.Check(evidence));
    }

    [Fact]
    public void TwoReturnedRunsOfTheSucceededAttempt_BreakI2_AndTheExceptionNamesTheJob()
    {
        var evidence = Evidence([Job(42, "succeeded", 1)], [Run(42, 1, "a", 0, 1, "returned"), Run(42, 1, "b", 2, 3, "returned")]);

        var exception = Assert.Throws<InvariantViolationException>(() => InvariantChecker.Assert(evidence));

        Assert.Contains(exception.Violations, v => v.Invariant == "I2" && v.Subjects.SequenceEqual(["job 42"]));
        Assert.Contains("I2 (exactly one success per succeeded job) broken for job 42", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SucceededJobWithoutAReturnedRun_BreaksI2()
    {
        var evidence = Evidence([Job(7, "succeeded", 1)], [Run(7, 1, "a", 0, 1, "threw")]);

        Assert.Contains(InvariantChecker.Check(evidence), v => v.Invariant == "I2" && v.Subjects.SequenceEqual(["job 7"]));
    }

    [Fact]
    public void OneAttemptRunningOnTwoNodesAtOnce_BreaksI3()
    {
        var evidence = Evidence([Job(3, "succeeded", 1)], [Run(3, 1, "a", 0, 5, "returned"), Run(3, 1, "b", 2, 6, "returned")]);

        Assert.Contains(InvariantChecker.Check(evidence), v => v.Invariant == "I3" && v.Subjects.SequenceEqual(["job 3"]));
    }

    [Fact]
    public void NextAttemptStartingWhileTheFirstStillRunsWithoutAFault_BreaksI4()
    {
        var evidence = Evidence([Job(4, "succeeded", 2)], [Run(4, 1, "a", 0, 10, "cancelled"), Run(4, 2, "b", 5, 6, "returned")]);

        var violations = InvariantChecker.Check(evidence);

        Assert.Contains(violations, v => v.Invariant == "I4" && v.Subjects.SequenceEqual(["job 4"]));
    }

    [Fact]
    public void NextAttemptStartingAfterAFaultCutTheFirst_BreaksNothing()
    {
        var evidence = Evidence([Job(4, "succeeded", 2)], [Run(4, 1, "a", 0, null, null), Run(4, 2, "b", 5, 6, "returned")],
            faults: [new Fault("a", "sigkill", T0.AddSeconds(1), T0.AddSeconds(1))]);

        Assert.Empty(InvariantChecker.Check(evidence));
    }

    [Fact]
    public void AFaultOnAnotherNode_DoesNotExplainAnOverlap()
    {
        var evidence = Evidence([Job(4, "succeeded", 2)], [Run(4, 1, "a", 0, null, null), Run(4, 2, "b", 5, 6, "returned")],
            faults: [new Fault("c", "sigkill", T0.AddSeconds(1), T0.AddSeconds(1))]);

        var invariants = InvariantChecker.Check(evidence).Select(v => v.Invariant);

        Assert.Equal(["I4", "I6"], invariants);
    }

    [Fact]
    public void AttemptGoingBackwards_BreaksI5()
    {
        var evidence = Evidence([Job(5, "succeeded", 2)], [Run(5, 2, "a", 0, 1, "threw"), Run(5, 1, "b", 2, 3, "threw"), Run(5, 2, "c", 4, 5, "returned")]);

        Assert.Contains(InvariantChecker.Check(evidence), v => v.Invariant == "I5" && v.Subjects.SequenceEqual(["job 5"]));
    }

    [Fact]
    public void RerunAfterAReturnedRunWithNoFault_BreaksI6()
    {
        var evidence = Evidence([Job(6, "succeeded", 2)], [Run(6, 1, "a", 0, 1, "returned"), Run(6, 2, "b", 2, 3, "returned")]);

        var violation = Assert.Single(InvariantChecker.Check(evidence));

        Assert.Equal("I6", violation.Invariant);
        Assert.Equal(["job 6"], violation.Subjects);
    }

    [Fact]
    public void RerunAfterAFaultCaughtTheReturnedRunsOutcomeUnstored_BreaksNothing()
    {
        var evidence = Evidence([Job(6, "succeeded", 2)], [Run(6, 1, "a", 0, 1, "returned"), Run(6, 2, "b", 5, 6, "returned")],
            faults: [new Fault("a", "sigkill", T0.AddSeconds(2), T0.AddSeconds(2))]);

        Assert.Empty(InvariantChecker.Check(evidence));
    }

    [Fact]
    public void AFaultAfterTheRerunStarted_DoesNotExplainIt()
    {
        var evidence = Evidence([Job(6, "succeeded", 2)], [Run(6, 1, "a", 0, 1, "returned"), Run(6, 2, "b", 2, 3, "returned")],
            faults: [new Fault("a", "sigkill", T0.AddSeconds(4), T0.AddSeconds(4))]);

        Assert.Equal("I6", Assert.Single(InvariantChecker.Check(evidence)).Invariant);
    }

    [Fact]
    public void NodeStillHoldingASlotOrABusyConnectionWhenQuiet_BreaksI7()
    {
        var evidence = Evidence([], [], quiet: [new QuietNode("a", new NodeLoad(1, 0, 0), 0), new QuietNode("b", default, 2), new QuietNode("c", default, 0)]);

        var violation = Assert.Single(InvariantChecker.Check(evidence));

        Assert.Equal("I7", violation.Invariant);
        Assert.Equal(["node a", "node b"], violation.Subjects);
    }

    private static StoredJob Job(long id, string state, int attempt) => new(id, state, attempt);

    private static Execution Run(long job, int attempt, string node, int startSecond, int? endSecond, string? outcome) =>
        new(job, attempt, node, node, T0.AddSeconds(startSecond), endSecond is { } end ? T0.AddSeconds(end) : null, outcome);

    private static Evidence Evidence(StoredJob[] jobs, Execution[] executions, long[]? enqueued = null, Fault[]? faults = null, QuietNode[]? quiet = null, long[]? mayBePending = null) => new()
    {
        Enqueued = enqueued ?? [.. jobs.Select(j => j.Id)],
        Jobs = jobs,
        Executions = executions,
        Faults = faults ?? [],
        QuietNodes = quiet ?? [],
        MayBePending = new HashSet<long>(mayBePending ?? []),
    };
}
