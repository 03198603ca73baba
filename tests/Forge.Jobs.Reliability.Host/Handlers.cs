using Forge.Jobs;
using Npgsql;

namespace Forge.Jobs.Reliability;

public sealed class WorkHandler(Ledger ledger) : IJobHandler<WorkJob>
{
    public Task HandleAsync(WorkJob job, JobContext context, CancellationToken cancellationToken) =>
        ledger.RecordAsync(context, async () =>
        {
            var milliseconds = context.Attempt > 1 && job.LaterMilliseconds is { } later ? later : job.Milliseconds;
            if (milliseconds > 0)
            {
                await Task.Delay(milliseconds, cancellationToken);
            }

            if (job.Fail)
            {
                throw new InvalidOperationException("This job always fails.");
            }
        }, cancellationToken);
}

public sealed class FailFastHandler(Ledger ledger) : IJobHandler<FailFastJob>
{
    public async Task HandleAsync(FailFastJob job, JobContext context, CancellationToken cancellationToken)
    {
        await ledger.StartAsync(context);
        Environment.FailFast($"fail_fast job {context.JobId} ends its node, as it does on every run.");
    }
}

/// <summary>The side effect goes to <c>{schema}_effects</c> over the library's own path (proxy or pooler included),
/// in the transaction that completes the job.</summary>
public sealed class TransactionalHandler(Ledger ledger, NodeSettings settings, LibraryDataSource library) : IJobHandler<TransactionalJob>
{
    public Task HandleAsync(TransactionalJob job, JobContext context, CancellationToken cancellationToken) =>
        ledger.RecordAsync(context, async () =>
        {
            if (job.Milliseconds > 0)
            {
                await Task.Delay(job.Milliseconds, cancellationToken);
            }

            await using var connection = await library.DataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var effect = new NpgsqlCommand($"INSERT INTO {settings.Schema}_effects (job_id, attempt) VALUES ($1, $2)", connection, transaction))
            {
                effect.Parameters.Add(new NpgsqlParameter { Value = context.JobId.Value });
                effect.Parameters.Add(new NpgsqlParameter { Value = context.Attempt });
                await effect.ExecuteNonQueryAsync(cancellationToken);
            }

            await context.CompleteAsync(transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }, cancellationToken);
}

/// <summary>The library's connection path, for handlers whose work must share it.</summary>
public sealed record LibraryDataSource(NpgsqlDataSource DataSource);
