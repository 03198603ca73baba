SELECT name, expression, time_zone, misfire, type, queue, payload, priority, max_retries, timeout_ms, tags,
       backoff_initial_ms, backoff_max_ms, backoff_jitter, paused, next_run_at, last_run_at, created_at, updated_at
FROM {schema}.schedules
WHERE name = $1;
