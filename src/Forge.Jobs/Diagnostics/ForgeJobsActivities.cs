using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Diagnostics;

/// <summary>The <c>Forge.Jobs</c> activity source and its two spans, named and tagged after the OpenTelemetry messaging
/// conventions: a producer span <c>send {queue}</c> around each enqueue call, and a consumer span <c>process {queue}</c>
/// around each attempt. The job stores the W3C context of where it was enqueued, and the attempt's span links to it
/// rather than being its child: a job may run minutes or days later, and once per attempt, so as a child it would
/// stretch the enqueuing trace without bound. Every method costs a check or two and allocates nothing when nothing
/// listens to the source and no activity is current. The names and attributes are listed in docs/observability.md.</summary>
internal static class ForgeJobsActivities
{
    public const string SourceName = "Forge.Jobs";

    /// <summary>The value of <c>messaging.system</c>: the conventions name no value for us, so it is our own.</summary>
    public const string MessagingSystem = "forge.jobs";

    public static readonly ActivitySource Source = new(
        SourceName,
        typeof(ForgeJobsActivities).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    /// <summary>Starts the span of one enqueue call, when something listens.</summary>
    /// <param name="jobs">The jobs of the call.</param>
    public static Activity? StartSend(IReadOnlyList<NewJob> jobs)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // One destination and one type when every job of the call shares them; a mixed call names neither.
        var queue = jobs[0].Queue;
        var type = jobs[0].Type;
        for (var i = 1; i < jobs.Count && (queue is not null || type is not null); i++)
        {
            queue = queue == jobs[i].Queue ? queue : null;
            type = type == jobs[i].Type ? type : null;
        }

        var tags = new ActivityTagsCollection
        {
            { "messaging.system", MessagingSystem },
            { "messaging.operation.type", "send" },
            { "messaging.operation.name", "send" },
        };
        if (queue is not null)
        {
            tags.Add("messaging.destination.name", queue);
        }

        if (type is not null)
        {
            tags.Add("forge.jobs.job.type", type);
        }

        if (jobs.Count > 1)
        {
            tags.Add("messaging.batch.message_count", jobs.Count);
        }

        return Source.StartActivity(queue is null ? "send" : "send " + queue, ActivityKind.Producer, parentContext: default, tags);
    }

    /// <summary>The W3C context to store with the jobs of an enqueue call: its own span's, else the caller's current
    /// activity's, else none.</summary>
    public static (string? TraceParent, string? TraceState) ContextToStore(Activity? send)
    {
        var activity = send ?? Activity.Current;
        return activity is { IdFormat: ActivityIdFormat.W3C } ? (activity.Id, activity.TraceStateString) : (null, null);
    }

    /// <summary>Stamps the stored context on the jobs, or returns them as they are when there is none.</summary>
    /// <param name="jobs">The jobs of the call.</param>
    /// <param name="send">The call's span, if one was started.</param>
    public static IReadOnlyList<NewJob> WithContext(IReadOnlyList<NewJob> jobs, Activity? send)
    {
        var (traceParent, traceState) = ContextToStore(send);
        if (traceParent is null)
        {
            return jobs;
        }

        var stamped = new NewJob[jobs.Count];
        for (var i = 0; i < stamped.Length; i++)
        {
            stamped[i] = jobs[i] with { TraceParent = traceParent, TraceState = traceState };
        }

        return stamped;
    }

    /// <summary>Tags the span of an enqueue call that stored one job with the job's id.</summary>
    public static void Sent(Activity? send, IReadOnlyList<InsertedJob> inserted)
    {
        if (send is { IsAllDataRequested: true } && inserted.Count == 1)
        {
            send.SetTag("messaging.message.id", inserted[0].Id.Value.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Starts the span of one attempt, when something listens, as the root of a trace of its own that links to
    /// the context the job was enqueued in. Whatever activity was current in the caller (one that was current when the
    /// node started, say) is cleared, so that neither this span nor the handler's own spans become its children.</summary>
    public static Activity? StartProcess(ClaimedJob job)
    {
        // Cleared for the attempt's flow only: the executor calls this from an async method, whose caller keeps its own.
        if (Activity.Current is not null)
        {
            Activity.Current = null;
        }

        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityLink[]? links = null;
        if (job.TraceParent is not null && ActivityContext.TryParse(job.TraceParent, job.TraceState, isRemote: true, out var enqueued))
        {
            links = [new ActivityLink(enqueued)];
        }

        var tags = new ActivityTagsCollection
        {
            { "messaging.system", MessagingSystem },
            { "messaging.operation.type", "process" },
            { "messaging.operation.name", "process" },
            { "messaging.destination.name", job.Queue },
            { "messaging.message.id", job.Id.Value.ToString(CultureInfo.InvariantCulture) },
            { "messaging.client.id", job.LeaseOwner },
            { "forge.jobs.job.type", job.Type },
            { "forge.jobs.job.attempt", job.Attempt },
        };

        return Source.StartActivity("process " + job.Queue, ActivityKind.Consumer, parentContext: default, tags, links);
    }

    /// <summary>Records how the attempt ended. A failure that counts (it retries or kills the job) is marked with
    /// <see cref="Failed"/> where it is caught.</summary>
    public static void Processed(Activity? process, CompletionOutcome outcome)
    {
        if (process is { IsAllDataRequested: true })
        {
            process.SetTag("forge.jobs.job.outcome", ForgeJobsMetrics.Outcome(outcome));
        }
    }

    /// <summary>Marks a span failed by <paramref name="failure"/>: its status, <c>error.type</c>, and an exception event.</summary>
    public static void Failed(Activity? activity, Exception failure)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, failure.Message);
        activity.SetTag("error.type", failure.GetType().FullName);
        activity.AddException(failure);
    }
}
