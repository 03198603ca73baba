using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Tests.Workflows;

/// <summary>Workflows and batches run by a real node, written once and run against each store.</summary>
public abstract class WorkflowScenarioTests : IAsyncLifetime
{
    private readonly WorkflowLog _log = new();
    private WatchedStore? _store;
    private TestNode? _node;

    private WatchedStore Store => _store!;

    private IJobClient Client => _node!.Client;

    private protected abstract Task<IJobStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        _store = new WatchedStore(await CreateStoreAsync());
        _node = await TestNode.StartAsync(
            _store,
            forge => forge
                .AddQueue("default", q => q.Concurrency = 8)
                .AddHandler<StepHandler, Step, int>(t => t.MaxRetries = 0)
                .AddHandler<GatherHandler, Gather, int>()
                .AddHandler<BatchDoneHandler, BatchDone>(),
            TimeProvider.System,
            services => services.AddSingleton(_log));
    }

    public virtual async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Diamond_RunsInDependencyOrder_AndTheJoinReadsBothResults()
    {
        var ids = await Client.EnqueueWorkflowAsync(new Workflow()
            .Add("a", new Step("a", 1))
            .Add("b", new Step("b", 2), dependsOn: ["a"])
            .Add("c", new Step("c", 3), dependsOn: ["a"])
            .Add("d", new Gather("d"), dependsOn: ["b", "c"]));

        await Wait.For(_log.Gathered.Task, "step d to run");
        await Store.UntilStateAsync(ids["d"], JobState.Succeeded);

        var order = _log.Started.ToList();
        Assert.Equal("a", order[0]);
        Assert.Equal("d", order[^1]);
        Assert.Equal(["a", "b", "c", "d"], order.Order());
        Assert.Equal(5, _log.Sums["d"]);
        Assert.Equal(5, await Client.GetResultAsync<int>(ids["d"]));
        Assert.Equal([ids["b"], ids["c"]], (await Client.GetJobAsync(ids["d"]))!.DependsOn);
    }

    [Fact]
    public async Task Diamond_WhenBDies_DIsCancelled()
    {
        var ids = await Client.EnqueueWorkflowAsync(new Workflow()
            .Add("a", new Step("a", 1))
            .Add("b", new Step("b", 2, Fail: true), dependsOn: ["a"])
            .Add("c", new Step("c", 3), dependsOn: ["a"])
            .Add("d", new Gather("d"), dependsOn: ["b", "c"]));

        await Store.UntilStateAsync(ids["b"], JobState.Dead);
        await Store.UntilStateAsync(ids["c"], JobState.Succeeded);
        await Store.UntilStateAsync(ids["d"], JobState.Cancelled);

        Assert.DoesNotContain("d", _log.Started);
        Assert.Empty(await Client.GetAttemptsAsync(ids["d"]));
    }

    [Fact]
    public async Task Diamond_WhenBDies_DRunsAnywayWhereTheDependencySaysSo()
    {
        var ids = await Client.EnqueueWorkflowAsync(new Workflow()
            .Add("a", new Step("a", 1))
            .Add("b", new Step("b", 2, Fail: true), dependsOn: ["a"])
            .Add("c", new Step("c", 3), dependsOn: ["a"])
            .Add("d", new Gather("d"), dependsOn: [JobDependency.Finished("b"), "c"]));

        await Wait.For(_log.Gathered.Task, "step d to run");
        await Store.UntilStateAsync(ids["d"], JobState.Succeeded);

        Assert.Equal(JobState.Dead, (await Client.GetJobAsync(ids["b"]))!.State);
        Assert.Equal(3, _log.Sums["d"]);
    }

    [Fact]
    public async Task FanOutOfAThousand_AndFanInOverThem_SumsEveryResult()
    {
        var workflow = new Workflow().Add("root", new Step("root", 0));
        var leaves = Enumerable.Range(1, 1000).Select(n => $"leaf-{n}").ToList();
        foreach (var (leaf, n) in leaves.Select((leaf, i) => (leaf, i + 1)))
        {
            workflow.Add(leaf, new Step(leaf, n), dependsOn: ["root"]);
        }

        workflow.Add("sum", new Gather("sum"), dependsOn: [.. leaves.Select(JobDependency.On)]);

        var ids = await Client.EnqueueWorkflowAsync(workflow);
        await Wait.For(_log.Gathered.Task, "the fan-in to run");
        await Store.UntilStateAsync(ids["sum"], JobState.Succeeded);

        Assert.Equal(1002, ids.Count);
        Assert.Equal(1000 * 1001 / 2, _log.Sums["sum"]);
        Assert.Equal("root", _log.Started.First());
        Assert.Equal("sum", _log.Started.Last());
        Assert.Equal(1002, _log.Started.Count);
    }

    [Fact]
    public async Task BatchOfAThousand_WithDeadMembers_CallsItsCallbackOnce_WithTheCounts()
    {
        var batch = new JobBatch()
            .AddRange(Enumerable.Range(1, 1000).Select(n => new Step($"job-{n}", n, Fail: n % 100 == 0)))
            .OnFinished(new BatchDone());

        var id = await Client.EnqueueBatchAsync(batch);
        await Wait.For(_log.CallbackRan.Task, "the batch callback");
        var callback = (await Client.GetBatchAsync(id))!.CallbackJobId!.Value;
        await Store.UntilStateAsync(callback, JobState.Succeeded);

        Assert.Equal(1, _log.Callbacks);
        var seen = Assert.Single(_log.CallbackSaw);
        Assert.Equal(1000, seen.Total);
        Assert.Equal(990, seen.Count(JobState.Succeeded));
        Assert.Equal(10, seen.Count(JobState.Dead));
        Assert.True(seen.IsFinished);
        Assert.Equal(1000, _log.Started.Count);
    }

    [Fact]
    public async Task Batch_StatusShowsProgress_WhileItsJobsWaitOnAParent()
    {
        var parent = await Client.EnqueueAsync(new Step("parent", 0), new JobOptions { Delay = TimeSpan.FromDays(1) });
        var batch = new JobBatch()
            .Add(new Step("first", 1))
            .Add(new Step("second", 2), new JobOptions { DependsOn = [parent] });

        var id = await Client.EnqueueBatchAsync(batch);
        await Store.UntilAsync(async () => (await Client.GetBatchAsync(id))!.Count(JobState.Succeeded) == 1, "the first job of the batch to succeed");

        var status = await Client.GetBatchAsync(id);
        Assert.Equal(2, status!.Total);
        Assert.Equal(1, status.Count(JobState.Waiting));
        Assert.Equal(0.5, status.Progress);
        Assert.Null(status.CallbackJobId);
    }
}

public sealed class InMemoryWorkflowScenarioTests : WorkflowScenarioTests
{
    private protected override Task<IJobStore> CreateStoreAsync() => Task.FromResult<IJobStore>(new InMemoryJobStore(TimeProvider.System));
}

public sealed class PostgresWorkflowScenarioTests(PostgresDatabase database) : WorkflowScenarioTests, IClassFixture<PostgresDatabase>
{
    private static int _schemas;
    private PostgresJobStore? _store;

    private protected override async Task<IJobStore> CreateStoreAsync() =>
        _store = await database.OpenStoreAsync($"workflows_{Interlocked.Increment(ref _schemas)}");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
    }
}
