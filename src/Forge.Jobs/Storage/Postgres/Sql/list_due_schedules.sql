-- Due schedules, by name, one page after another ($2 is the last name of the previous page).
SELECT name, expression, time_zone, misfire, type, queue, payload, priority, max_retries, timeout_ms, tags,
       backoff_initial_ms, backoff_max_ms, backoff_jitter, paused, next_run_at, last_run_at, created_at, updated_at
FROM {schema}.schedules
WHERE NOT paused AND next_run_at <= $1 AND ($2::text IS NULL OR name COLLATE "C" > $2::text)
ORDER BY name COLLATE "C"
LIMIT $3;
