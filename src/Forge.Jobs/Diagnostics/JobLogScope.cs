using System.Collections;
using System.Globalization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Diagnostics;

/// <summary>The log scope of one attempt: job id, type, queue and attempt, without a dictionary per job.</summary>
internal sealed class JobLogScope(ClaimedJob job) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 4;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("JobId", job.Id.Value),
        1 => new("JobType", job.Type),
        2 => new("Queue", job.Queue),
        3 => new("Attempt", job.Attempt),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"JobId:{job.Id} JobType:{job.Type} Queue:{job.Queue} Attempt:{job.Attempt}");
}
