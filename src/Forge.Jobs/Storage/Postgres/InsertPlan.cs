using System.Text.Json;
using Npgsql;

namespace Forge.Jobs.Storage.Postgres;

/// <summary>One insert call turned into column arrays for a single statement. A key repeated within the call is
/// sent once; its later rows resolve to the first one's job.</summary>
internal sealed class InsertPlan
{
    private const short BatchMember = 1;
    private const short BatchCallback = 2;

    private readonly int[] _rowOf;
    private readonly bool[] _repeat;

    private InsertPlan(List<NewJob> rows, int[] rowOf, bool[] repeat, HashSet<string> dueQueues, List<NewJob> scheduled)
    {
        Scheduled = scheduled;
        BoundedQueues = [.. rows.Where(r => r.MaxLength is not null).Select(r => r.Queue).Distinct(StringComparer.Ordinal)];
        Rows = rows;
        IsPlain = rows is [{ IdempotencyKey: null, DependsOn: null or { Count: 0 }, Batch: null, MaxLength: null }];
        _rowOf = rowOf;
        _repeat = repeat;
        DueQueues = dueQueues;
    }

    public List<NewJob> Rows { get; }

    /// <summary>Queues with a max length that this insert adds to.</summary>
    public IReadOnlyList<string> BoundedQueues { get; }

    /// <summary>Queues that get a job due at once (by this process's clock: it is only a wake-up hint).</summary>
    public HashSet<string> DueQueues { get; }

    /// <summary>The jobs to run later (by this process's clock: it is only a wake-up hint).</summary>
    public List<NewJob> Scheduled { get; }

    /// <summary>One job with no idempotency key, dependency, batch or bounded queue: the insert needs none of the checks of
    /// the full statement. Measured end to end, the plain statement makes a one-job enqueue about 1.5 times as fast; for
    /// bulk calls the full statement measured faster (see docs/benchmarks.md), so they keep it.</summary>
    public bool IsPlain { get; }

    public static InsertPlan For(IReadOnlyList<NewJob> jobs)
    {
        var rows = new List<NewJob>(jobs.Count);
        var rowOf = new int[jobs.Count];
        var repeat = new bool[jobs.Count];
        var dueQueues = new HashSet<string>(StringComparer.Ordinal);
        var scheduled = new List<NewJob>();
        Dictionary<string, int>? keys = null;
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            if (job.IdempotencyKey is { } key)
            {
                keys ??= new(StringComparer.Ordinal);
                if (keys.TryGetValue(key, out var first))
                {
                    rowOf[i] = first;
                    repeat[i] = true;
                    continue;
                }

                keys.Add(key, rows.Count);
            }

            rowOf[i] = rows.Count;
            rows.Add(job);
            if (job.Delay <= TimeSpan.Zero && (job.RunAt is null || job.RunAt <= now) && job.DependsOn is not { Count: > 0 })
            {
                dueQueues.Add(job.Queue);
            }
            else
            {
                scheduled.Add(job);
            }
        }

        return new InsertPlan(rows, rowOf, repeat, dueQueues, scheduled);
    }

    /// <param name="sql">insert_plain.sql when the plan <see cref="IsPlain"/>, else insert.sql.</param>
    public NpgsqlBatchCommand InsertCommand(string sql)
    {
        var n = Rows.Count;
        var types = new string[n];
        var queues = new string[n];
        var payloads = new string?[n];
        var payloadBytes = new int[n];
        var priorities = new short[n];
        var maxRetries = new int[n];
        var timeouts = new long[n];
        var runAts = new DateTimeOffset?[n];
        var delays = new long[n];
        var keys = new string?[n];
        var tags = new string?[n];
        var initial = new long?[n];
        var max = new long?[n];
        var jitter = new double?[n];
        var maxLengths = new int?[n];
        var batchRoles = new short[n];
        string?[]? traceParents = null;
        string?[]? traceStates = null;
        BatchId? batch = null;
        var children = new List<int>();
        var parentIds = new List<long?>();
        var parentRows = new List<int?>();
        var runAnyway = new List<bool>();
        for (var i = 0; i < n; i++)
        {
            var job = Rows[i];
            types[i] = job.Type;
            queues[i] = job.Queue;
            payloads[i] = job.Payload;
            payloadBytes[i] = job.PayloadBytes;
            priorities[i] = (short)job.Priority;
            maxRetries[i] = job.MaxRetries;
            timeouts[i] = (long)job.Timeout.TotalMilliseconds;
            runAts[i] = job.RunAt?.ToUniversalTime();
            delays[i] = (long)job.Delay.TotalMilliseconds;
            keys[i] = job.IdempotencyKey;
            tags[i] = job.Tags.Count == 0 ? "[]" : JsonSerializer.Serialize(job.Tags.ToArray());
            initial[i] = (long?)job.Backoff?.InitialDelay.TotalMilliseconds;
            max[i] = (long?)job.Backoff?.MaxDelay.TotalMilliseconds;
            jitter[i] = job.Backoff?.Jitter;
            maxLengths[i] = job.MaxLength;
            if (job.TraceParent is not null)
            {
                (traceParents ??= new string?[n])[i] = job.TraceParent;
                (traceStates ??= new string?[n])[i] = job.TraceState;
            }

            if (job.Batch is { } id)
            {
                batch = id;
                batchRoles[i] = job.IsBatchCallback ? BatchCallback : BatchMember;
            }

            foreach (var parent in job.DependsOn ?? [])
            {
                children.Add(i + 1);
                parentIds.Add(parent.Job?.Value);
                parentRows.Add(parent.Row is { } row ? _rowOf[row] + 1 : null);
                runAnyway.Add(parent.RunAnyway);
            }
        }

        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = types });
        command.Parameters.Add(new NpgsqlParameter { Value = queues });
        command.Parameters.Add(PostgresJobStore.Jsonb(payloads));
        command.Parameters.Add(new NpgsqlParameter { Value = priorities });
        command.Parameters.Add(new NpgsqlParameter { Value = maxRetries });
        command.Parameters.Add(new NpgsqlParameter { Value = timeouts });
        command.Parameters.Add(new NpgsqlParameter { Value = runAts });
        command.Parameters.Add(new NpgsqlParameter { Value = delays });
        if (!IsPlain)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = keys });
        }

        command.Parameters.Add(PostgresJobStore.Jsonb(tags));
        command.Parameters.Add(new NpgsqlParameter { Value = initial });
        command.Parameters.Add(new NpgsqlParameter { Value = max });
        command.Parameters.Add(new NpgsqlParameter { Value = jitter });
        if (IsPlain)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = payloadBytes });
            AddTraceContexts(command, traceParents, traceStates);
            return command;
        }

        command.Parameters.Add(new NpgsqlParameter { Value = maxLengths });
        command.Parameters.Add(new NpgsqlParameter { Value = batchRoles });
        command.Parameters.Add(new NpgsqlParameter { Value = children.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = parentIds.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = parentRows.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = runAnyway.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = batch is { } b ? b.Value : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = payloadBytes });
        AddTraceContexts(command, traceParents, traceStates);
        return command;
    }

    // A null array when no row has a context: unnest pads it with nulls, so the common case sends nothing per row.
    private static void AddTraceContexts(NpgsqlBatchCommand command, string?[]? traceParents, string?[]? traceStates)
    {
        command.Parameters.Add(TextArray(traceParents));
        command.Parameters.Add(TextArray(traceStates));
    }

    private static NpgsqlParameter TextArray(string?[]? values) =>
        new() { Value = values ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text };

    /// <param name="ids">Per row: the inserted id, or null where the row's idempotency key was already stored.</param>
    /// <param name="existing">The stored job of each such key.</param>
    public IReadOnlyList<InsertedJob> Results(long?[] ids, Dictionary<string, long>? existing)
    {
        var results = new InsertedJob[_rowOf.Length];
        for (var i = 0; i < results.Length; i++)
        {
            var row = _rowOf[i];
            if (ids[row] is { } id)
            {
                results[i] = new InsertedJob(new JobId(id), Existed: _repeat[i]);
                continue;
            }

            var key = Rows[row].IdempotencyKey!;
            results[i] = existing is not null && existing.TryGetValue(key, out var stored)
                ? new InsertedJob(new JobId(stored), Existed: true)
                : throw new InvalidOperationException($"The job with idempotency key '{key}' was deleted while this enqueue ran; enqueue again.");
        }

        return results;
    }
}
