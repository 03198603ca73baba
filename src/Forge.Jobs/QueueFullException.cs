using System.Globalization;

namespace Forge.Jobs;

/// <summary>Thrown by enqueue when a bounded queue (<see cref="QueueOptions.MaxLength"/>) already holds its
/// maximum of jobs waiting to run. Nothing of that enqueue call was stored. Back off and retry, or shed the work.</summary>
public sealed class QueueFullException : Exception
{
    /// <summary>Creates the exception for <paramref name="queue"/> and its bound.</summary>
    public QueueFullException(string queue, int maxLength)
        : base(string.Create(CultureInfo.InvariantCulture, $"Queue '{queue}' is full: it holds its maximum of {maxLength:N0} jobs waiting to run, so nothing was enqueued. Retry later, or raise QueueOptions.MaxLength."))
    {
        Queue = queue;
        MaxLength = maxLength;
    }

    /// <summary>The full queue.</summary>
    public string Queue { get; }

    /// <summary>Its bound.</summary>
    public int MaxLength { get; }
}
