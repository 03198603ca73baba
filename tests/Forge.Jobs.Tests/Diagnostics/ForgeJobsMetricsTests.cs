using Forge.Jobs.Diagnostics;
using Forge.Jobs.Leadership;
using Forge.Jobs.Maintenance;
using Forge.Jobs.Processing;
using Forge.Jobs.Retry;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Scheduling;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Diagnostics;

public sealed class ForgeJobsMetricsTests
{
    private static readonly RetryBackoff Quick = new() { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(1), Jitter = 0 };

    [Fact]
    public async Task JobsThatSucceedRetryAndDie_AreCountedByQueueTypeAndOutcome_WithADurationAndAWaitPerAttempt()
    {
        var recorder = new Recorder();
        await using var node = await TestNode.StartAsync(new InMemoryJobStore(TimeProvider.System), f => f
            .AddHandler<PingHandler, Ping>()
            .AddHandler<FailsOnceHandler, FailsOnce>()
            .AddHandler<AlwaysFailsHandler, AlwaysFails>(),
            services: s => s.AddSingleton(recorder));
        using var meter = new MeterRecorder(node.Services.GetRequiredService<ForgeJobsMetrics>().Meter);

        JobId[] ids =
        [
            await node.Client.EnqueueAsync(new Ping(1), new JobOptions { IdempotencyKey = "one" }),
            await node.Client.EnqueueAsync(new Ping(1), new JobOptions { IdempotencyKey = "one" }),
            await node.Client.EnqueueAsync(new FailsOnce(), new JobOptions { Backoff = Quick }),
            await node.Client.EnqueueAsync(new AlwaysFails(), new JobOptions { MaxRetries = 0, Queue = "default" }),
        ];
        await Wait.For(UntilFinishedAsync(node.Client, ids), "the jobs to finish");
        var types = new Dictionary<JobId, string>();
        foreach (var id in ids)
        {
            types[id] = (await node.Client.GetJobAsync(id))!.Type;
        }

        var enqueued = meter.Of("forge.jobs.enqueued");
        Assert.Equal(3, enqueued.Sum(m => m.Value));
        Assert.All(enqueued, m => Assert.True(m.Has("queue", "default")));
        Assert.Equal(1, enqueued.Where(m => m.Has("type", types[ids[0]])).Sum(m => m.Value));
        Assert.Equal(4, meter.Of("forge.jobs.started").Sum(m => m.Value));
        Assert.Equal(2, meter.Of("forge.jobs.started").Where(m => m.Has("type", types[ids[2]])).Sum(m => m.Value));

        var completed = meter.Of("forge.jobs.completed");
        Assert.Equal(2, completed.Where(m => m.Has("outcome", "succeeded")).Sum(m => m.Value));
        Assert.Equal(1, completed.Where(m => m.Has("outcome", "retried") && m.Has("type", types[ids[2]])).Sum(m => m.Value));
        Assert.Equal(1, completed.Where(m => m.Has("outcome", "dead") && m.Has("type", types[ids[3]])).Sum(m => m.Value));
        Assert.Equal(4, meter.Of("forge.jobs.duration").Count);
        Assert.All(meter.Of("forge.jobs.duration"), m => Assert.True(m.Value >= 0 && m.Tags.ContainsKey("outcome")));
        Assert.Equal(4, meter.Of("forge.jobs.wait").Count);
        Assert.All(meter.Of("forge.jobs.wait"), m => Assert.True(m.Value >= 0));
    }

    [Fact]
    public async Task CronOccurrences_AreCountedAsEnqueuedByTheLeaderThatFiredThem()
    {
        await using var node = await TestNode.StartAsync(new InMemoryJobStore(TimeProvider.System), f => f
            .AddHandler<CronTickHandler, CronTick>()
            .AddRecurring("tick", "* * * * * *", new CronTick("tick")),
            services: s => s.AddSingleton(new Recorder()));
        using var meter = new MeterRecorder(node.Services.GetRequiredService<ForgeJobsMetrics>().Meter);

        await Wait.For(UntilAsync(() => meter.Of("forge.jobs.enqueued").Sum(m => m.Value) >= 2), "two occurrences to be enqueued");
        Assert.True(await node.Client.PauseScheduleAsync("tick"));

        var stored = await node.Client.ListJobsAsync(new JobQuery { Limit = 100 });
        Assert.Equal(stored.Count, meter.Of("forge.jobs.enqueued").Sum(m => m.Value));
        Assert.All(meter.Of("forge.jobs.enqueued"), m => Assert.True(m.Has("type", stored[0].Type)));
    }

    [Fact]
    public async Task Running_IsTheNumberOfAttemptsInFlightOnTheNode()
    {
        var recorder = new Recorder();
        await using var node = await TestNode.StartAsync(new InMemoryJobStore(TimeProvider.System), f => f.AddHandler<BlockingHandler, Blocking>(), services: s => s.AddSingleton(recorder));
        using var meter = new MeterRecorder(node.Services.GetRequiredService<ForgeJobsMetrics>().Meter);

        var id = await node.Client.EnqueueAsync(new Blocking());
        await Wait.For(recorder.Started.Task, "the job to start");
        meter.Observe();
        recorder.Gate.SetResult();
        await Wait.For(UntilFinishedAsync(node.Client, [id]), "the job to finish");
        meter.Observe();

        Assert.Equal([1.0, 0.0], meter.Of("forge.jobs.running").Select(m => m.Value));
    }

    [Fact]
    public async Task Rescue_CountsEachExpiredAttemptItFailed_ByQueueAndType()
    {
        var time = TimeProvider.System;
        var store = new InMemoryJobStore(time);
        var options = new ForgeJobsOptions();
        var metrics = new ForgeJobsMetrics();
        using var meter = new MeterRecorder(metrics.Meter);
        await store.InsertManyAsync([TestJobs.New(queue: "mail"), TestJobs.New(queue: "mail")], default);
        await store.ClaimAsync(new ClaimRequest("dead-node", TimeSpan.Zero, [new QueueLimit("mail", 2)]), default);
        var leadership = new LeaderElection(store, options, time, NullLogger.Instance);
        await leadership.RenewAsync(default);
        var rescuer = new JobRescuer(store, new RetryPolicy(new JobTypeRegistry(Options.Create(options))), leadership, metrics, options, time, NullLogger.Instance);

        await rescuer.RescueAsync(default);

        var rescued = meter.Of("forge.jobs.rescued");
        Assert.Equal(2, rescued.Sum(m => m.Value));
        Assert.All(rescued, m => Assert.True(m.Has("queue", "mail") && m.Tags.ContainsKey("type")));
    }

    [Fact]
    public async Task Completer_CountsOutcomesRefusedForALostLease()
    {
        var store = new InMemoryJobStore(TimeProvider.System);
        var metrics = new ForgeJobsMetrics();
        using var meter = new MeterRecorder(metrics.Meter);
        await store.InsertManyAsync([TestJobs.New()], default);
        var job = Assert.Single(await store.ClaimAsync(new ClaimRequest("node-a", TimeSpan.FromMinutes(1), [new QueueLimit("default", 1)]), default));
        var completer = new JobCompleter(store, new HeldJobs(), new ForgeJobsOptions(), metrics, TimeProvider.System, NullLogger.Instance, () => { });

        completer.Enqueue(new Completion(job.Id, "node-b", job.Attempt, CompletionOutcome.Succeeded));
        completer.Complete();
        await Wait.For(completer.RunAsync(CancellationToken.None), "the completer to store the outcome");

        Assert.Equal([1.0], meter.Of("forge.jobs.leases_lost").Select(m => m.Value));
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(10);
        }
    }

    private static async Task UntilFinishedAsync(IJobClient client, IEnumerable<JobId> ids)
    {
        foreach (var id in ids)
        {
            while ((await client.GetJobAsync(id))!.State is not (JobState.Succeeded or JobState.Dead or JobState.Cancelled))
            {
                await Task.Delay(10);
            }
        }
    }
}
