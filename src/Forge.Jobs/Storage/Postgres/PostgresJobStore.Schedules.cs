using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>Cron schedules in <c>{schema}.schedules</c>. A fire is one transaction: the compare-and-set of the
/// cursor, then, only if it won, the insert of the occurrences' jobs.</summary>
internal sealed partial class PostgresJobStore
{
    public async Task<ScheduleRecord> UpsertScheduleAsync(ScheduleDefinition definition, DateTimeOffset? nextRunAt, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var d = definition;
        var command = Command(
            _sql.UpsertSchedule,
            d.Name, d.Expression, d.TimeZone, MisfireCode(d.Misfire), d.Type, d.Queue, PostgresText.CleanJson(d.Payload), (short)d.Priority, d.MaxRetries,
            (long)d.Timeout.TotalMilliseconds, d.Tags.ToArray(),
            (long?)d.Backoff?.InitialDelay.TotalMilliseconds, (long?)d.Backoff?.MaxDelay.TotalMilliseconds, d.Backoff?.Jitter,
            Utc(nextRunAt));
        var schedules = await ReadSchedulesAsync(command, cancellationToken).ConfigureAwait(false);
        return schedules[0];
    }

    public async Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var schedules = await ReadSchedulesAsync(Command(_sql.GetSchedule, name), cancellationToken).ConfigureAwait(false);
        return schedules.Count == 0 ? null : schedules[0];
    }

    public async Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await ReadSchedulesAsync(Command(_sql.ListSchedules), cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> PauseScheduleAsync(string name, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await MatchesAsync(Command(_sql.PauseSchedule, name), cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> ResumeScheduleAsync(string name, string expression, string timeZone, DateTimeOffset? nextRunAt, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await MatchesAsync(Command(_sql.ResumeSchedule, name, expression, timeZone, Utc(nextRunAt)), cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await MatchesAsync(Command(_sql.DeleteSchedule, name), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset now, string? afterName, int limit, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.ListDueSchedules, now.ToUniversalTime(), new NpgsqlParameter<string?> { TypedValue = afterName, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text }, limit);
        return await ReadSchedulesAsync(command, cancellationToken).ConfigureAwait(false);
    }

    public async Task<DateTimeOffset?> GetNextScheduleRunAsync(DateTimeOffset after, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var command = Command(_sql.NextScheduleRun, after.ToUniversalTime());
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime next
                ? new DateTimeOffset(DateTime.SpecifyKind(next, DateTimeKind.Utc))
                : null;
        }
    }

    public async Task<bool> FireScheduleAsync(ScheduleFire fire, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var command = Command(transaction, _sql.FireSchedule, fire.Name, fire.Expression, fire.TimeZone, fire.ExpectedNextRunAt.ToUniversalTime(), Utc(fire.NextRunAt), Utc(fire.LastRunAt));
                if (!await MatchesAsync(command, cancellationToken).ConfigureAwait(false))
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return false;
                }

                if (fire.Jobs.Count > 0)
                {
                    await InsertManyAsync(fire.Jobs, transaction, cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    private static NpgsqlParameter<DateTimeOffset?> Utc(DateTimeOffset? value) =>
        new() { TypedValue = value?.ToUniversalTime(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz };

    private static string MisfireCode(MisfirePolicy misfire) => misfire switch
    {
        MisfirePolicy.Skip => "skip",
        MisfirePolicy.RunOnce => "run_once",
        _ => throw new ArgumentOutOfRangeException(nameof(misfire), misfire, null),
    };

    private static MisfirePolicy ParseMisfire(string misfire) => misfire switch
    {
        "skip" => MisfirePolicy.Skip,
        "run_once" => MisfirePolicy.RunOnce,
        _ => throw new InvalidOperationException($"Unknown misfire policy '{misfire}' in the database."),
    };

    /// <summary>Runs a command that returns a row when it matched one.</summary>
    private static async Task<bool> MatchesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string;
        }
    }

    private static async Task<IReadOnlyList<ScheduleRecord>> ReadSchedulesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var schedules = new List<ScheduleRecord>();
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var definition = new ScheduleDefinition(
                        Name: reader.GetString(0),
                        Expression: reader.GetString(1),
                        TimeZone: reader.GetString(2),
                        Misfire: ParseMisfire(reader.GetString(3)),
                        Type: reader.GetString(4),
                        Queue: reader.GetString(5),
                        Payload: reader.GetString(6),
                        Priority: reader.GetInt16(7),
                        MaxRetries: reader.GetInt32(8),
                        Timeout: TimeSpan.FromMilliseconds(reader.GetInt64(9)),
                        Tags: reader.GetFieldValue<string[]>(10),
                        Backoff: ReadBackoff(reader, 11));
                    schedules.Add(new ScheduleRecord(
                        definition,
                        Paused: reader.GetBoolean(14),
                        NextRunAt: reader.IsDBNull(15) ? null : reader.GetFieldValue<DateTimeOffset>(15),
                        LastRunAt: reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16),
                        CreatedAt: reader.GetFieldValue<DateTimeOffset>(17),
                        UpdatedAt: reader.GetFieldValue<DateTimeOffset>(18)));
                }

                return schedules;
            }
        }
    }
}
