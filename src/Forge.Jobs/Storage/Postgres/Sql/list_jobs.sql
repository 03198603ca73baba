WITH shown AS (
    SELECT id, type, queue,
           CASE WHEN state IN ('scheduled', 'retrying') AND run_at <= now() THEN 'available' ELSE state::text END AS state,
           priority, attempt, max_retries, created_at, run_at, attempted_at, finished_at,
           CASE WHEN state = 'running' THEN lease_owner END AS node,
           payload, result, last_error, idempotency_key, tags, batch_id
    FROM {schema}.jobs
    WHERE ($1::bigint IS NULL OR id < $1)
      AND ($3::text IS NULL OR queue = $3)
      AND ($4::text IS NULL OR type = $4)
      AND ($5::text IS NULL OR $5 = ANY (tags))
)
SELECT id, type, queue, state, priority, attempt, max_retries, created_at, run_at, attempted_at, finished_at, node,
       payload::text, result::text, last_error, idempotency_key, tags, batch_id,
       ARRAY(SELECT d.parent_id FROM {schema}.job_dependencies AS d WHERE d.job_id = shown.id ORDER BY d.parent_id) AS depends_on
FROM shown
WHERE $2::text IS NULL OR state = $2
ORDER BY id DESC
LIMIT $6;
