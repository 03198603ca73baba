-- The job columns as users see them, for the jobs that {where} selects. A scheduled or retrying job whose run-at
-- has passed is shown as available.
SELECT id, type, queue,
       CASE WHEN state IN ('scheduled', 'retrying') AND run_at <= now() THEN 'available' ELSE state::text END AS state,
       priority, attempt, max_retries, created_at, run_at, attempted_at, finished_at,
       CASE WHEN state = 'running' THEN lease_owner END AS node,
       payload::text, result::text, last_error, idempotency_key, tags, batch_id,
       ARRAY(SELECT d.parent_id FROM {schema}.job_dependencies AS d WHERE d.job_id = jobs.id ORDER BY d.parent_id) AS depends_on
FROM {schema}.jobs
WHERE {where}
ORDER BY id;
