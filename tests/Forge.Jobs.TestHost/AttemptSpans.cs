using System.Diagnostics;

namespace Forge.Jobs.TestHost;

/// <summary>Prints each attempt span of the Forge.Jobs activity source as it ends, with the context it links to, so a
/// test in another process can check where the job's trace came from.</summary>
public static class AttemptSpans
{
    public static ActivityListener Print()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Forge.Jobs",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.Kind != ActivityKind.Consumer)
                {
                    return;
                }

                var link = activity.Links.FirstOrDefault().Context;
                var linked = link == default ? "none" : $"{link.TraceId} {link.SpanId}";
                Console.WriteLine($"span {activity.GetTagItem("messaging.message.id")} {activity.GetTagItem("forge.jobs.job.outcome")} link {linked}");
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
