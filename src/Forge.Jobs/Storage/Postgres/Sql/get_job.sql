-- The job columns as users see them. A scheduled or retrying job whose run-at has passed is shown as available.
SELECT id, type, queue,
       CASE WHEN state IN ('scheduled', 'retrying') AND run_at <= now() THEN 'available' ELSE state::text END AS state,
       priority, attempt, max_retries, created_at, run_at, attempted_at, finished_at,
       CASE WHEN state = 'running' THEN lease_owner END AS node,
       payload::text, result::text, last_error, idempotency_key, tags
FROM {schema}.jobs
WHERE id = $1;
