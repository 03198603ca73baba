using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Workflows;

public sealed class WorkflowValidationTests
{
    private readonly InMemoryJobStore _store = new(TimeProvider.System);
    private readonly JobClient _client;

    public WorkflowValidationTests() => _client = new JobClient(_store, new JobTypeRegistry(Options.Create(new ForgeJobsOptions())));

    [Fact]
    public async Task Workflow_WithACycle_IsRejectedWithAnErrorThatNamesIt_AndStoresNothing()
    {
        var workflow = new Workflow()
            .Add("start", new Ping(0))
            .Add("a", new Ping(1), dependsOn: ["start", "c"])
            .Add("b", new Ping(2), dependsOn: ["a"])
            .Add("c", new Ping(3), dependsOn: ["b"])
            .Add("after", new Ping(4), dependsOn: ["c"]);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueWorkflowAsync(workflow));

        Assert.Contains("cycle: a → b → c → a", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _client.ListJobsAsync(new JobQuery()));
    }

    [Fact]
    public async Task Workflow_StepThatDependsOnItself_IsACycle()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueWorkflowAsync(new Workflow().Add("loop", new Ping(0), dependsOn: ["loop"])));

        Assert.Contains("cycle: loop → loop", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workflow_UnknownStep_IsRejectedNamingBothSteps()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueWorkflowAsync(new Workflow().Add("load", new Ping(0), dependsOn: ["extrct"])));

        Assert.Contains("Step 'load' depends on step 'extrct', which the workflow does not have", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Workflow_DuplicateStepName_IsRejectedAtAdd()
    {
        var workflow = new Workflow().Add("a", new Ping(0));

        var error = Assert.Throws<ArgumentException>(() => workflow.Add("a", new Ping(1)));

        Assert.Contains("already has a step named 'a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Workflow_StepWithAnIdempotencyKey_IsRejected()
    {
        var workflow = new Workflow().Add("a", new Ping(0), new JobOptions { IdempotencyKey = "k" });

        var error = Assert.Throws<ArgumentException>(() => workflow.Plan(new JobTypeRegistry(Options.Create(new ForgeJobsOptions()))));

        Assert.Contains("IdempotencyKey is set on a job of a workflow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Workflow_StepsAreStoredParentsFirst_AndWaitForThem()
    {
        var ids = await _client.EnqueueWorkflowAsync(new Workflow()
            .Add("report", new Ping(2), dependsOn: ["load"])
            .Add("load", new Ping(1)));

        Assert.True(ids["load"] < ids["report"]);
        Assert.Equal(JobState.Available, (await _client.GetJobAsync(ids["load"]))!.State);
        var report = await _client.GetJobAsync(ids["report"]);
        Assert.Equal(JobState.Waiting, report!.State);
        Assert.Equal([ids["load"]], report.DependsOn);
    }

    [Fact]
    public async Task Enqueue_DependsOnAStepName_OutsideAWorkflow_IsRejected()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(new Ping(0), new JobOptions { DependsOn = ["extract"] }));

        Assert.Contains("names the step 'extract', but step names work only inside a Workflow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enqueue_DependsOnTheSameParentTwice_IsRejected()
    {
        var parent = await _client.EnqueueAsync(new Ping(0));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueAsync(new Ping(1), new JobOptions { DependsOn = [parent, JobDependency.Finished(parent)] }));

        Assert.Contains("names a parent twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_Empty_IsRejected()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _client.EnqueueBatchAsync(new JobBatch()));

        Assert.Contains("The batch has no jobs", error.Message, StringComparison.Ordinal);
    }
}
