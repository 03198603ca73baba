namespace Forge.Jobs.Storage.Postgres;

internal sealed partial class PostgresJobStore
{
    public async Task<IReadOnlyList<JobInfo>> GetParentsAsync(JobId id, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await ReadJobsAsync(Command(_sql.GetParents, id.Value), cancellationToken).ConfigureAwait(false);
    }

    public async Task<BatchInfo?> GetBatchAsync(BatchId id, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.GetBatch, id.Value);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                BatchInfo? batch = null;
                var counts = new Dictionary<JobState, int>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    batch ??= new BatchInfo
                    {
                        Id = id,
                        Total = reader.GetInt32(0),
                        CallbackJobId = reader.IsDBNull(1) ? null : new JobId(reader.GetInt64(1)),
                        CreatedAt = reader.GetFieldValue<DateTimeOffset>(2),
                        Counts = counts,
                    };
                    if (!reader.IsDBNull(3))
                    {
                        counts[ParseState(reader.GetString(3))] = reader.GetInt32(4);
                    }
                }

                return batch;
            }
        }
    }
}
