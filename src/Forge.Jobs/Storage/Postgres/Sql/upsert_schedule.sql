-- Creates a schedule, or replaces its definition: the pause is kept, and so is the cursor unless the expression or
-- the time zone changed. updated_at moves only when something changed, so a node that re-registers an unchanged
-- schedule at start-up leaves it as it was.
INSERT INTO {schema}.schedules AS s (name, expression, time_zone, misfire, type, queue, payload, priority, max_retries,
                                     timeout_ms, tags, backoff_initial_ms, backoff_max_ms, backoff_jitter, next_run_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (name) DO UPDATE SET
    next_run_at = CASE WHEN s.expression = excluded.expression AND s.time_zone = excluded.time_zone
                       THEN s.next_run_at ELSE excluded.next_run_at END,
    updated_at = CASE WHEN (s.expression, s.time_zone, s.misfire, s.type, s.queue, s.payload, s.priority, s.max_retries,
                            s.timeout_ms, s.tags, s.backoff_initial_ms, s.backoff_max_ms, s.backoff_jitter)
                           IS NOT DISTINCT FROM
                           (excluded.expression, excluded.time_zone, excluded.misfire, excluded.type, excluded.queue,
                            excluded.payload, excluded.priority, excluded.max_retries, excluded.timeout_ms, excluded.tags,
                            excluded.backoff_initial_ms, excluded.backoff_max_ms, excluded.backoff_jitter)
                      THEN s.updated_at ELSE now() END,
    expression = excluded.expression,
    time_zone = excluded.time_zone,
    misfire = excluded.misfire,
    type = excluded.type,
    queue = excluded.queue,
    payload = excluded.payload,
    priority = excluded.priority,
    max_retries = excluded.max_retries,
    timeout_ms = excluded.timeout_ms,
    tags = excluded.tags,
    backoff_initial_ms = excluded.backoff_initial_ms,
    backoff_max_ms = excluded.backoff_max_ms,
    backoff_jitter = excluded.backoff_jitter
RETURNING name, expression, time_zone, misfire, type, queue, payload, priority, max_retries, timeout_ms, tags,
       backoff_initial_ms, backoff_max_ms, backoff_jitter, paused, next_run_at, last_run_at, created_at, updated_at;
