namespace Forge.Jobs.Storage.InMemory;

/// <summary>The mutable row behind one node. Guarded by the store's lock.</summary>
internal sealed class StoredNode
{
    public required DateTimeOffset StartedAt { get; init; }
    public IReadOnlyList<string> Queues { get; set; } = [];
    public DateTimeOffset HeartbeatAt { get; set; }
    public bool Draining { get; set; }
    public bool DrainRequested { get; set; }
}
