namespace Forge.Jobs.Storage.Postgres;

/// <summary>The store's statements for one schema, formatted once.</summary>
internal sealed class PostgresStatements(string quotedSchema)
{
    public string Insert { get; } = PostgresSchema.Sql("Sql/insert", quotedSchema);
    public string InsertPlain { get; } = PostgresSchema.Sql("Sql/insert_plain", quotedSchema);
    public string HintWithoutFlush { get; } = PostgresSchema.Sql("Sql/hint_without_flush", quotedSchema);
    public string NotifyAvailable { get; } = PostgresSchema.Sql("Sql/notify_available", quotedSchema);
    public string ExistingKeys { get; } = PostgresSchema.Sql("Sql/existing_keys", quotedSchema);
    public string Stage { get; } = PostgresSchema.Sql("Sql/stage", quotedSchema);
    public string Claim { get; } = PostgresSchema.Sql("Sql/claim", quotedSchema);
    public string Complete { get; } = PostgresSchema.Sql("Sql/complete", quotedSchema).Replace("{lock}", "FOR UPDATE OF j", StringComparison.Ordinal);
    public string Rescue { get; } = PostgresSchema.Sql("Sql/complete", quotedSchema).Replace("{lock}", "FOR UPDATE OF j SKIP LOCKED", StringComparison.Ordinal);
    public string LockQueues { get; } = PostgresSchema.Sql("Sql/lock_queues", quotedSchema);
    public string ExtendLeases { get; } = PostgresSchema.Sql("Sql/extend_leases", quotedSchema);
    public string ListExpired { get; } = PostgresSchema.Sql("Sql/list_expired", quotedSchema);
    public string ListHeldLeases { get; } = PostgresSchema.Sql("Sql/list_held_leases", quotedSchema);
    public string GetTime { get; } = PostgresSchema.Sql("Sql/get_time", quotedSchema);
    public string Cancel { get; } = PostgresSchema.Sql("Sql/cancel", quotedSchema);
    public string Retry { get; } = PostgresSchema.Sql("Sql/retry", quotedSchema);
    public string GetJob { get; } = PostgresSchema.Sql("Sql/get_jobs", quotedSchema).Replace("{where}", "id = $1", StringComparison.Ordinal);
    public string GetParents { get; } = PostgresSchema.Sql("Sql/get_jobs", quotedSchema)
        .Replace("{where}", $"id IN (SELECT parent_id FROM {quotedSchema}.job_dependencies WHERE job_id = $1)", StringComparison.Ordinal);
    public string GetBatch { get; } = PostgresSchema.Sql("Sql/get_batch", quotedSchema);
    public string ResolveChildren { get; } = PostgresSchema.Sql("Sql/resolve_children", quotedSchema);
    public string ListJobs { get; } = PostgresSchema.Sql("Sql/list_jobs", quotedSchema);
    public string ListAttempts { get; } = PostgresSchema.Sql("Sql/list_attempts", quotedSchema);
    public string Heartbeat { get; } = PostgresSchema.Sql("Sql/heartbeat", quotedSchema);
    public string RemoveNode { get; } = PostgresSchema.Sql("Sql/remove_node", quotedSchema);
    public string ListNodes { get; } = PostgresSchema.Sql("Sql/list_nodes", quotedSchema);
    public string RequestDrain { get; } = PostgresSchema.Sql("Sql/request_drain", quotedSchema);
    public string TryLead { get; } = PostgresSchema.Sql("Sql/try_lead", quotedSchema);
    public string Resign { get; } = PostgresSchema.Sql("Sql/resign", quotedSchema);
    public string Prune { get; } = PostgresSchema.Sql("Sql/prune", quotedSchema);
    public string SetQueuePaused { get; } = PostgresSchema.Sql("Sql/set_queue_paused", quotedSchema);
    public string ListQueues { get; } = PostgresSchema.Sql("Sql/list_queues", quotedSchema);
    public string LockLimitedQueues { get; } = PostgresSchema.Sql("Sql/lock_limited_queues", quotedSchema);
    public string SetQueueConcurrency { get; } = PostgresSchema.Sql("Sql/set_queue_concurrency", quotedSchema);
    public string SetQueueGlobalLimit { get; } = PostgresSchema.Sql("Sql/set_queue_global_limit", quotedSchema);
    public string NotifyScheduled { get; } = PostgresSchema.Sql("Sql/notify_scheduled", quotedSchema);
    public string UpsertSchedule { get; } = PostgresSchema.Sql("Sql/upsert_schedule", quotedSchema);
    public string GetSchedule { get; } = PostgresSchema.Sql("Sql/get_schedule", quotedSchema);
    public string ListSchedules { get; } = PostgresSchema.Sql("Sql/list_schedules", quotedSchema);
    public string PauseSchedule { get; } = PostgresSchema.Sql("Sql/pause_schedule", quotedSchema);
    public string ResumeSchedule { get; } = PostgresSchema.Sql("Sql/resume_schedule", quotedSchema);
    public string DeleteSchedule { get; } = PostgresSchema.Sql("Sql/delete_schedule", quotedSchema);
    public string ListDueSchedules { get; } = PostgresSchema.Sql("Sql/list_due_schedules", quotedSchema);
    public string NextScheduleRun { get; } = PostgresSchema.Sql("Sql/next_schedule_run", quotedSchema);
    public string FireSchedule { get; } = PostgresSchema.Sql("Sql/fire_schedule", quotedSchema);
}
