-- Deletes up to $3 finished jobs past their retention, with their attempt history and dependencies, batches
-- none of whose jobs is left, and forgets nodes silent for longer than $4. A finished parent is kept while a
-- child that may still read its result has not finished. Small batches keep each transaction short on a busy table.
WITH doomed AS (
    SELECT id FROM {schema}.jobs AS j
    WHERE ((state = 'succeeded' AND finished_at < now() - $1 * interval '1 millisecond')
        OR (state IN ('dead', 'cancelled') AND finished_at < now() - $2 * interval '1 millisecond'))
      AND NOT EXISTS (
          SELECT 1 FROM {schema}.job_dependencies AS d JOIN {schema}.jobs AS child ON child.id = d.job_id
          WHERE d.parent_id = j.id AND child.state NOT IN ('succeeded', 'dead', 'cancelled'))
    LIMIT $3
    FOR UPDATE SKIP LOCKED
),
jobs_deleted AS (
    DELETE FROM {schema}.jobs AS j USING doomed WHERE j.id = doomed.id RETURNING j.id
),
attempts_deleted AS (
    DELETE FROM {schema}.job_attempts AS a USING jobs_deleted WHERE a.job_id = jobs_deleted.id
),
dependencies_deleted AS (
    DELETE FROM {schema}.job_dependencies AS d USING jobs_deleted WHERE d.job_id = jobs_deleted.id
),
batches_deleted AS (
    DELETE FROM {schema}.batches WHERE id IN (
        SELECT b.id FROM {schema}.batches AS b
        WHERE b.created_at < now() - $1 * interval '1 millisecond'
          AND NOT EXISTS (SELECT 1 FROM {schema}.jobs AS j WHERE j.batch_id = b.id)
        LIMIT $3)
),
nodes_deleted AS (
    DELETE FROM {schema}.nodes WHERE heartbeat_at < now() - $4 * interval '1 millisecond'
)
SELECT count(*) FROM jobs_deleted;
