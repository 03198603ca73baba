namespace Forge.Jobs;

/// <summary>Named priorities. Priorities run from 0 to 9; 9 runs first.</summary>
public static class JobPriority
{
    /// <summary>The lowest priority, 0.</summary>
    public const int Min = 0;

    /// <summary>Background work that may wait: 1.</summary>
    public const int Low = 1;

    /// <summary>The default: 5.</summary>
    public const int Normal = 5;

    /// <summary>Ahead of normal work: 7.</summary>
    public const int High = 7;

    /// <summary>Ahead of everything else: 9, the highest priority.</summary>
    public const int Critical = 9;
}
