using System.Collections;
using System.Diagnostics;
using System.Globalization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Diagnostics;

/// <summary>The log scope of one attempt: job id, type, queue and attempt, and the trace id of the attempt's span when
/// tracing is on, without a dictionary per job.</summary>
internal sealed class JobLogScope(ClaimedJob job, ActivityTraceId? traceId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => traceId is null ? 4 : 5;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("JobId", job.Id.Value),
        1 => new("JobType", job.Type),
        2 => new("Queue", job.Queue),
        3 => new("Attempt", job.Attempt),
        4 when traceId is { } id => new("TraceId", id.ToHexString()),
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

    public override string ToString() => traceId is { } id
        ? string.Create(CultureInfo.InvariantCulture, $"JobId:{job.Id} JobType:{job.Type} Queue:{job.Queue} Attempt:{job.Attempt} TraceId:{id}")
        : string.Create(CultureInfo.InvariantCulture, $"JobId:{job.Id} JobType:{job.Type} Queue:{job.Queue} Attempt:{job.Attempt}");
}
