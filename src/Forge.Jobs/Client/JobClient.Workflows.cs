using Npgsql;

namespace Forge.Jobs.Client;

internal sealed partial class JobClient
{
    public Task<IReadOnlyDictionary<string, JobId>> EnqueueWorkflowAsync(Workflow workflow, CancellationToken cancellationToken = default) =>
        EnqueueWorkflowCoreAsync(workflow, transaction: null, cancellationToken);

    public Task<IReadOnlyDictionary<string, JobId>> EnqueueWorkflowAsync(Workflow workflow, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return EnqueueWorkflowCoreAsync(workflow, transaction, cancellationToken);
    }

    private async Task<IReadOnlyDictionary<string, JobId>> EnqueueWorkflowCoreAsync(Workflow workflow, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var (rows, steps) = workflow.Plan(registry);
        var inserted = await InsertAsync(rows, transaction, cancellationToken).ConfigureAwait(false);
        var ids = new Dictionary<string, JobId>(steps.Length, StringComparer.Ordinal);
        for (var i = 0; i < steps.Length; i++)
        {
            ids.Add(steps[i], inserted[i].Id);
        }

        return ids;
    }

    public Task<BatchId> EnqueueBatchAsync(JobBatch batch, CancellationToken cancellationToken = default) =>
        EnqueueBatchCoreAsync(batch, transaction: null, cancellationToken);

    public Task<BatchId> EnqueueBatchAsync(JobBatch batch, NpgsqlTransaction transaction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return EnqueueBatchCoreAsync(batch, transaction, cancellationToken);
    }

    private async Task<BatchId> EnqueueBatchCoreAsync(JobBatch batch, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var id = new BatchId(Guid.CreateVersion7());
        await InsertAsync(batch.Plan(id, registry), transaction, cancellationToken).ConfigureAwait(false);
        return id;
    }

    public Task<BatchInfo?> GetBatchAsync(BatchId id, CancellationToken cancellationToken = default) =>
        store.GetBatchAsync(id, cancellationToken);
}
