using System.Collections.Concurrent;

namespace Forge.Jobs.Tests.Workflows;

/// <summary>What the workflow handlers did, in order, shared with the test through DI.</summary>
internal sealed class WorkflowLog
{
    private int _callbacks;

    public ConcurrentQueue<string> Started { get; } = new();

    public ConcurrentDictionary<string, int> Sums { get; } = new();

    public ConcurrentQueue<BatchInfo> CallbackSaw { get; } = new();

    public TaskCompletionSource<string> Gathered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource CallbackRan { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Callbacks => Volatile.Read(ref _callbacks);

    public void Callback(BatchInfo batch)
    {
        CallbackSaw.Enqueue(batch);
        Interlocked.Increment(ref _callbacks);
        CallbackRan.TrySetResult();
    }
}

/// <summary>A step that returns its value, or fails (for good, with no retries) when told to.</summary>
internal sealed record Step(string Name, int Value, bool Fail = false);

internal sealed class StepHandler(WorkflowLog log) : IJobHandler<Step, int>
{
    public Task<int> HandleAsync(Step job, JobContext context, CancellationToken cancellationToken)
    {
        log.Started.Enqueue(job.Name);
        return job.Fail ? throw new InvalidOperationException($"step {job.Name} fails") : Task.FromResult(job.Value);
    }
}

/// <summary>A fan-in step: sums its parents' results.</summary>
internal sealed record Gather(string Name);

internal sealed class GatherHandler(WorkflowLog log) : IJobHandler<Gather, int>
{
    public async Task<int> HandleAsync(Gather job, JobContext context, CancellationToken cancellationToken)
    {
        log.Started.Enqueue(job.Name);
        var results = await context.GetParentResultsAsync<int>(cancellationToken);
        var sum = results.Values.Sum();
        log.Sums[job.Name] = sum;
        log.Gathered.TrySetResult(job.Name);
        return sum;
    }
}

internal sealed record BatchDone;

internal sealed class BatchDoneHandler(WorkflowLog log) : IJobHandler<BatchDone>
{
    public async Task HandleAsync(BatchDone job, JobContext context, CancellationToken cancellationToken) =>
        log.Callback((await context.GetBatchAsync(cancellationToken))!);
}
