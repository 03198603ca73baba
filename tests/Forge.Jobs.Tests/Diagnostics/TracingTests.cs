using System.Diagnostics;
using Forge.Jobs.Diagnostics;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Tests.Diagnostics;

/// <summary>The Forge.Jobs activity source: a producer span per enqueue call, a consumer span per attempt that links to
/// the context the job was enqueued in, and the handler running inside the attempt's span. Each test uses a queue of
/// its own, so that it finds its spans among those of the tests running beside it.</summary>
public sealed class TracingTests : IDisposable
{
    private readonly SpanRecorder _spans = new();

    public void Dispose() => _spans.Dispose();

    [Fact]
    public async Task EnqueueAndRun_TheAttemptSpanIsARootConsumerSpanLinkedToTheEnqueueSpan_AndTheHandlerRunsInsideIt()
    {
        const string queue = "trace-plain";
        var seen = new HandlerSpans();
        await using var node = await StartNodeAsync(queue, seen);

        var id = await node.Client.EnqueueAsync(new Traced(1), new JobOptions { Queue = queue });
        var process = await Wait.For(_spans.StoppedAsync(Span(ActivityKind.Consumer, queue)), "the attempt's span to end");
        var send = Assert.Single(_spans.Stopped(Span(ActivityKind.Producer, queue)));

        Assert.Equal($"send {queue}", send.OperationName);
        Assert.Equal("forge.jobs", send.GetTagItem("messaging.system"));
        Assert.Equal("send", send.GetTagItem("messaging.operation.type"));
        Assert.Equal(id.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), send.GetTagItem("messaging.message.id"));
        Assert.Equal("traced", send.GetTagItem("forge.jobs.job.type"));
        Assert.Null(send.GetTagItem("messaging.batch.message_count"));

        Assert.Equal($"process {queue}", process.OperationName);
        Assert.Equal(default, process.ParentSpanId);
        var link = Assert.Single(process.Links);
        Assert.Equal(send.TraceId, link.Context.TraceId);
        Assert.Equal(send.SpanId, link.Context.SpanId);
        Assert.NotEqual(send.TraceId, process.TraceId);
        Assert.Equal("process", process.GetTagItem("messaging.operation.type"));
        Assert.Equal(send.GetTagItem("messaging.message.id"), process.GetTagItem("messaging.message.id"));
        Assert.Equal("traced", process.GetTagItem("forge.jobs.job.type"));
        Assert.Equal(1, process.GetTagItem("forge.jobs.job.attempt"));
        Assert.Equal("succeeded", process.GetTagItem("forge.jobs.job.outcome"));
        Assert.Equal(ActivityStatusCode.Unset, process.Status);
        Assert.Equal(process.SpanId, await Wait.For(seen.Current.Task, "the handler to run"));
    }

    [Fact]
    public async Task HandlerLogLines_CarryTheJobAndTheTraceIdOfTheAttemptsSpanInTheirScope()
    {
        const string queue = "trace-scope";
        var lines = new ScopeRecorder();
        await using var node = await TestNode.StartAsync(new InMemoryJobStore(TimeProvider.System), f => f
            .AddQueue(queue)
            .AddHandler<TracedHandler, Traced>(), services: s => s.AddSingleton(new HandlerSpans()).AddLogging(l => l.AddProvider(lines)));

        var id = await node.Client.EnqueueAsync(new Traced(1), new JobOptions { Queue = queue });
        var process = await Wait.For(_spans.StoppedAsync(Span(ActivityKind.Consumer, queue)), "the attempt's span to end");

        var line = Assert.Single(lines.Lines, l => l.Category == "Forge.Jobs.Job");
        Assert.Equal("traced job 1", line.Message);
        Assert.Equal(id.Value, line.Scope["JobId"]);
        Assert.Equal("traced", line.Scope["JobType"]);
        Assert.Equal(queue, line.Scope["Queue"]);
        Assert.Equal(1, line.Scope["Attempt"]);
        Assert.Equal(process.TraceId.ToHexString(), line.Scope["TraceId"]);
    }

    [Fact]
    public async Task EnqueueInsideTheAppsRequestSpan_TheEnqueueSpanIsItsChild_AndTheAttemptLinksIntoThatTrace()
    {
        const string queue = "trace-ambient";
        await using var node = await StartNodeAsync(queue, new HandlerSpans());

        ActivityContext request;
        using (var requestSpan = SpanRecorder.App.StartActivity("POST /orders", ActivityKind.Server))
        {
            request = requestSpan!.Context;
            await node.Client.EnqueueAsync(new Traced(1), new JobOptions { Queue = queue });
        }

        var process = await Wait.For(_spans.StoppedAsync(Span(ActivityKind.Consumer, queue)), "the attempt's span to end");
        var send = Assert.Single(_spans.Stopped(Span(ActivityKind.Producer, queue)));

        Assert.Equal(request.TraceId, send.TraceId);
        Assert.Equal(request.SpanId, send.ParentSpanId);
        var link = Assert.Single(process.Links);
        Assert.Equal(request.TraceId, link.Context.TraceId);
        Assert.Equal(send.SpanId, link.Context.SpanId);
        Assert.Equal(default, process.ParentSpanId);
    }

    [Fact]
    public async Task EnqueueMany_OneEnqueueSpanCountsTheJobs_AndEveryAttemptLinksToIt()
    {
        const string queue = "trace-many";
        await using var node = await StartNodeAsync(queue, new HandlerSpans());

        var ids = await node.Client.EnqueueManyAsync([new Traced(1), new Traced(2), new Traced(3)], new JobOptions { Queue = queue });
        var processes = await Wait.For(
            Task.WhenAll(ids.Select(id => _spans.StoppedAsync(s => Span(ActivityKind.Consumer, queue)(s) && (string?)s.GetTagItem("messaging.message.id") == id.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)))),
            "the three attempt spans to end");
        var send = Assert.Single(_spans.Stopped(Span(ActivityKind.Producer, queue)));

        Assert.Equal(3, send.GetTagItem("messaging.batch.message_count"));
        Assert.Null(send.GetTagItem("messaging.message.id"));
        Assert.All(processes, process => Assert.Equal(send.SpanId, Assert.Single(process.Links).Context.SpanId));
    }

    [Fact]
    public async Task AFailedLastAttempt_ItsSpanHasErrorStatusTheErrorTypeAndTheException()
    {
        const string queue = "trace-failed";
        await using var node = await TestNode.StartAsync(new InMemoryJobStore(TimeProvider.System), f => f
            .AddQueue(queue)
            .AddHandler<AlwaysFailsHandler, AlwaysFails>());

        await node.Client.EnqueueAsync(new AlwaysFails(), new JobOptions { Queue = queue, MaxRetries = 0 });
        var process = await Wait.For(_spans.StoppedAsync(Span(ActivityKind.Consumer, queue)), "the attempt's span to end");

        Assert.Equal(ActivityStatusCode.Error, process.Status);
        Assert.Equal("dead", process.GetTagItem("forge.jobs.job.outcome"));
        Assert.Equal(typeof(InvalidOperationException).FullName, process.GetTagItem("error.type"));
        var exception = Assert.Single(process.Events, e => e.Name == "exception");
        Assert.Contains(exception.Tags, t => t.Key == "exception.type" && (string?)t.Value == typeof(InvalidOperationException).FullName);
    }

    [Fact]
    public void ContextToStore_WithoutAnEnqueueSpan_IsTheCurrentActivitysOrNone()
    {
        Activity.Current = null;
        Assert.Equal(((string?)null, (string?)null), ForgeJobsActivities.ContextToStore(send: null));

        using var current = new Activity("unsampled request").SetIdFormat(ActivityIdFormat.W3C).Start();
        current.TraceStateString = "vendor=1";

        Assert.Equal((current.Id, "vendor=1"), ForgeJobsActivities.ContextToStore(send: null));
    }

    private static Func<Activity, bool> Span(ActivityKind kind, string queue) =>
        span => span.Source.Name == ForgeJobsActivities.SourceName && span.Kind == kind && (string?)span.GetTagItem("messaging.destination.name") == queue;

    private static Task<TestNode> StartNodeAsync(string queue, HandlerSpans seen) =>
        TestNode.StartAsync(new InMemoryJobStore(TimeProvider.System), f => f
            .AddQueue(queue)
            .AddHandler<TracedHandler, Traced>(), services: s => s.AddSingleton(seen));
}

[JobType("traced")]
internal sealed record Traced(int N);

/// <summary>The span current in the first handler that ran.</summary>
internal sealed class HandlerSpans
{
    public TaskCompletionSource<ActivitySpanId> Current { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal sealed partial class TracedHandler(HandlerSpans seen) : IJobHandler<Traced>
{
    public Task HandleAsync(Traced job, JobContext context, CancellationToken cancellationToken)
    {
        seen.Current.TrySetResult(Activity.Current?.SpanId ?? default);
        Ran(context.Logger, job.N);
        return Task.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "traced job {N}")]
    private static partial void Ran(ILogger logger, int n);
}
