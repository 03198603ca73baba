using System.Collections.Concurrent;
using System.Threading.Channels;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Tests.Support;

/// <summary>A job that runs until the test releases it by number.</summary>
[JobType("gated")]
internal sealed record Gated(int N);

/// <summary>Records each start of a <see cref="Gated"/> job (in order, with its queue) and how many run at once, and
/// holds each job until <see cref="Release"/>. Shared with the test through DI.</summary>
internal sealed class Gates
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _gates = new();
    private readonly Channel<(string Queue, int N)> _starts = Channel.CreateUnbounded<(string, int)>();
    private readonly ConcurrentDictionary<string, int> _running = new(StringComparer.Ordinal);
    private int _current;
    private int _max;

    /// <summary>The most jobs seen running at once since the last <see cref="ResetMax"/>.</summary>
    public int MaxRunning => Volatile.Read(ref _max);

    public int RunningIn(string queue) => _running.GetValueOrDefault(queue);

    public static NewJob New(string queue, int n, int priority = JobPriority.Normal) =>
        TestJobs.New(queue: queue, type: "gated", payload: $$"""{"n":{{n}}}""", priority: priority);

    public void ResetMax() => Volatile.Write(ref _max, Volatile.Read(ref _current));

    public void Release(int n) => Gate(n).TrySetResult();

    /// <summary>The next job to start, in start order.</summary>
    public Task<(string Queue, int N)> NextStartAsync(string what) => Wait.For(_starts.Reader.ReadAsync().AsTask(), what);

    /// <summary>The next <paramref name="count"/> jobs to start.</summary>
    public async Task<List<(string Queue, int N)>> NextStartsAsync(int count, string what)
    {
        var starts = new List<(string Queue, int N)>(count);
        for (var i = 0; i < count; i++)
        {
            starts.Add(await NextStartAsync($"{what} ({i} of {count} started)"));
        }

        return starts;
    }

    public async Task RunAsync(string queue, int n, CancellationToken cancellationToken)
    {
        _running.AddOrUpdate(queue, 1, static (_, count) => count + 1);
        var now = Interlocked.Increment(ref _current);
        int seen;
        while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
        {
        }

        _starts.Writer.TryWrite((queue, n));
        try
        {
            await Gate(n).Task.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _current);
            _running.AddOrUpdate(queue, 0, static (_, count) => count - 1);
        }
    }

    private TaskCompletionSource Gate(int n) => _gates.GetOrAdd(n, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

internal sealed class GatedHandler(Gates gates) : IJobHandler<Gated>
{
    public Task HandleAsync(Gated job, JobContext context, CancellationToken cancellationToken) =>
        gates.RunAsync(context.Queue, job.N, cancellationToken);
}

/// <summary>A job that records the order in which jobs start.</summary>
[JobType("ordered")]
internal sealed record Ordered(int N);

internal sealed class StartOrder
{
    private readonly ConcurrentQueue<int> _started = new();
    private int _expected = int.MaxValue;

    public TaskCompletionSource AllStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<int> Started => [.. _started];

    public void Expect(int count) => _expected = count;

    public void Start(int n)
    {
        _started.Enqueue(n);
        if (_started.Count >= _expected)
        {
            AllStarted.TrySetResult();
        }
    }
}

internal sealed class OrderedHandler(StartOrder order) : IJobHandler<Ordered>
{
    public Task HandleAsync(Ordered job, JobContext context, CancellationToken cancellationToken)
    {
        order.Start(job.N);
        return Task.CompletedTask;
    }
}
