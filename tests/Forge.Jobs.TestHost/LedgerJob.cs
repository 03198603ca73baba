using Forge.Jobs;
using Npgsql;

namespace Forge.Jobs.TestHost;

[JobType("ledger")]
public sealed record LedgerJob(int N);

public sealed record LedgerSettings(string Schema, string NodeId, int MaxWorkMilliseconds);

/// <summary>Records each execution in the ledger table (created by the test) before doing its "work", so that the
/// test can count executions per job across processes and crashes.</summary>
public sealed class LedgerHandler(NpgsqlDataSource dataSource, LedgerSettings settings) : IJobHandler<LedgerJob>
{
    public async Task HandleAsync(LedgerJob job, JobContext context, CancellationToken cancellationToken)
    {
        await using (var command = dataSource.CreateCommand($"INSERT INTO {settings.Schema}_ledger (job_id, attempt, node, n) VALUES ($1, $2, $3, $4)"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = context.JobId.Value });
            command.Parameters.Add(new NpgsqlParameter { Value = context.Attempt });
            command.Parameters.Add(new NpgsqlParameter { Value = settings.NodeId });
            command.Parameters.Add(new NpgsqlParameter { Value = job.N });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (settings.MaxWorkMilliseconds > 0)
        {
            await Task.Delay(Random.Shared.Next(settings.MaxWorkMilliseconds + 1), cancellationToken);
        }
    }
}
