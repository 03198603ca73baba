using Forge.Jobs.Storage;

namespace Forge.Jobs.Tests.Support;

/// <summary>Lets a test await the next "jobs available" hint of a store.</summary>
internal sealed class HintListener : IJobStoreListener
{
    private TaskCompletionSource<string> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<string> Next()
    {
        _next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _next.Task;
    }

    public void OnJobsAvailable(string queue) => _next.TrySetResult(queue);

    public void OnJobsScheduled(string queue, TimeSpan dueIn)
    {
    }

    public void OnCancelRequested(JobId id)
    {
    }
}
