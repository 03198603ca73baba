-- Deletes up to $3 finished jobs past their retention, with their attempt history, and forgets nodes silent for
-- longer than $4. Small batches keep each transaction short on a busy table.
WITH doomed AS (
    SELECT id FROM {schema}.jobs
    WHERE (state = 'succeeded' AND finished_at < now() - $1 * interval '1 millisecond')
       OR (state IN ('dead', 'cancelled') AND finished_at < now() - $2 * interval '1 millisecond')
    LIMIT $3
    FOR UPDATE SKIP LOCKED
),
jobs_deleted AS (
    DELETE FROM {schema}.jobs AS j USING doomed WHERE j.id = doomed.id RETURNING j.id
),
attempts_deleted AS (
    DELETE FROM {schema}.job_attempts AS a USING jobs_deleted WHERE a.job_id = jobs_deleted.id
),
nodes_deleted AS (
    DELETE FROM {schema}.nodes WHERE heartbeat_at < now() - $4 * interval '1 millisecond'
)
SELECT count(*) FROM jobs_deleted;
