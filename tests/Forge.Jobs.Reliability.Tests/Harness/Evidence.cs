using Forge.Jobs.Processing;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>One run of a handler, from the ledger. <see cref="End"/> is null when the run never finished (its
/// process died or froze); <see cref="Outcome"/> is then null too, else "returned", "threw" or "cancelled".</summary>
internal sealed record Execution(long JobId, int Attempt, string Node, string LeaseOwner, DateTime Start, DateTime? End, string? Outcome);

/// <summary>A job as the store holds it after the scenario.</summary>
internal sealed record StoredJob(long Id, string State, int Attempt);

/// <summary>A fault the scenario injected, on one node or, when <see cref="Node"/> is null, on all of them.</summary>
internal sealed record Fault(string? Node, string Kind, DateTime Start, DateTime End)
{
    public bool Touches(Execution execution) =>
        (Node is null || Node == execution.Node) && Start <= (execution.End ?? DateTime.MaxValue) && End >= execution.Start;

    /// <summary>Whether the fault hit the run's node after the run ended but before the job's next run started at
    /// <paramref name="nextStart"/>: a node holds the lease until it has stored the outcome, which it does in batches
    /// after the handler returns, so a fault in that gap can lose the outcome and the job rightly runs again.</summary>
    public bool CaughtUnstored(Execution execution, DateTime nextStart) =>
        (Node is null || Node == execution.Node) && execution.End is { } end && Start >= end && Start <= nextStart;
}

/// <summary>What a live node holds once the cluster is quiet, and how many of its connections are busy.</summary>
internal sealed record QuietNode(string Node, NodeLoad Load, int BusyConnections);

/// <summary>Everything the invariant checker judges.</summary>
internal sealed record Evidence
{
    /// <summary>Ids that enqueue calls returned.</summary>
    public required IReadOnlyCollection<long> Enqueued { get; init; }

    public required IReadOnlyCollection<StoredJob> Jobs { get; init; }

    public required IReadOnlyCollection<Execution> Executions { get; init; }

    public IReadOnlyCollection<Fault> Faults { get; init; } = [];

    public IReadOnlyCollection<QuietNode> QuietNodes { get; init; } = [];

    /// <summary>Enqueued jobs that may legitimately still be waiting (scheduled for later, or behind a paused queue).</summary>
    public IReadOnlySet<long> MayBePending { get; init; } = new HashSet<long>();
}
