using System.Diagnostics;

namespace Forge.Jobs.Tests.Support;

/// <summary>Records every span of the Forge.Jobs source and of <see cref="App"/> (standing for the application's own
/// spans) as it ends, and lets a test wait for one. Other tests in the process make Forge.Jobs spans too, so a test picks
/// its own by something only it uses, such as its queue.</summary>
internal sealed class SpanRecorder : IDisposable
{
    public static readonly ActivitySource App = new("Forge.Jobs.Tests.App");

    private readonly ActivityListener _listener;
    private readonly List<Activity> _stopped = [];
    private readonly List<(Func<Activity, bool> Match, TaskCompletionSource<Activity> Span)> _awaited = [];

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Forge.Jobs" || source == App,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The first ended span, past or future, that matches.</summary>
    public Task<Activity> StoppedAsync(Func<Activity, bool> match)
    {
        lock (_stopped)
        {
            if (_stopped.FirstOrDefault(match) is { } seen)
            {
                return Task.FromResult(seen);
            }

            var span = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaited.Add((match, span));
            return span.Task;
        }
    }

    /// <summary>The ended spans that match, so far.</summary>
    public IReadOnlyList<Activity> Stopped(Func<Activity, bool> match)
    {
        lock (_stopped)
        {
            return [.. _stopped.Where(match)];
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Stopped(Activity activity)
    {
        lock (_stopped)
        {
            _stopped.Add(activity);
            foreach (var (match, span) in _awaited)
            {
                if (match(activity))
                {
                    span.TrySetResult(activity);
                }
            }
        }
    }
}
