namespace Forge.Jobs.Processing;

/// <summary>What a node holds at one moment: claimed slots, attempts in flight and outcomes not yet stored. A quiet
/// node that has stored everything holds none of them.</summary>
internal readonly record struct NodeLoad(int HeldSlots, int Running, int QueuedOutcomes);
