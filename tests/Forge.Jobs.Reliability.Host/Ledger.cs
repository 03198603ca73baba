using Npgsql;

namespace Forge.Jobs.Reliability;

/// <summary>Writes one ledger row per execution, on connections of its own: a row when the handler starts, and its
/// end and outcome when the handler stops. A row without an end is an execution that never finished (its process
/// died or froze). Times come from the database clock, the one clock every node shares.</summary>
public sealed class Ledger(NpgsqlDataSource dataSource, NodeSettings settings)
{
    public async Task<long> StartAsync(JobContext context)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO {settings.Schema}_ledger (job_id, attempt, node, lease_owner, started_at)
            VALUES ($1, $2, $3, $4, clock_timestamp()) RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = context.JobId.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = context.Attempt });
        command.Parameters.Add(new NpgsqlParameter { Value = settings.NodeId });
        command.Parameters.Add(new NpgsqlParameter { Value = settings.NodeId }); // a node leases under its own id
        return (long)(await command.ExecuteScalarAsync(CancellationToken.None))!;
    }

    public async Task EndAsync(long execution, string outcome)
    {
        await using var command = dataSource.CreateCommand($"UPDATE {settings.Schema}_ledger SET ended_at = clock_timestamp(), outcome = $2 WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = execution });
        command.Parameters.Add(new NpgsqlParameter { Value = outcome });
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>Runs <paramref name="work"/> between a start row and an end row whose outcome says how it ended:
    /// returned, threw or cancelled.</summary>
    public async Task RecordAsync(JobContext context, Func<Task> work, CancellationToken cancellationToken)
    {
        var execution = await StartAsync(context);
        try
        {
            await work();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await EndAsync(execution, "cancelled");
            throw;
        }
        catch
        {
            await EndAsync(execution, "threw");
            throw;
        }

        await EndAsync(execution, "returned");
    }
}
