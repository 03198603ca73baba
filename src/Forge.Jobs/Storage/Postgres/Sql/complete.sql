-- Stores many outcomes in one statement. Each row applies only while the job is running under the same
-- lease owner and attempt, and a rescue only once that lease has expired: a stale worker never overwrites a
-- newer attempt. A cancellation asked for while the job ran wins over any outcome but success.
-- Rows are locked in id order, like every statement that locks several jobs, so two never deadlock. {lock} is
-- FOR UPDATE OF j (a completion waits for a row locked by a handler's own transaction, then re-checks its fence)
-- or, for the rescuer, FOR UPDATE OF j SKIP LOCKED (a locked job is rescued at a later pass instead).
-- Outcomes: s = succeeded, r = retry, d = dead, c = cancelled, l = released (handed back, and hinted to nodes).
-- $9, the attempts' log lines, is NULL when no handler in the batch logged a line: unnest pads it with NULLs.
WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::jsonb[], $6::text[], $7::bigint[], $8::boolean[], $9::jsonb[])
        AS c(id, lease_owner, attempt, outcome, result, error, retry_delay_ms, rescue, logs)
),
decided AS (
    SELECT input.*, j.attempted_at,
           CASE
               WHEN input.outcome IN ('r', 'd', 'l') AND j.cancel_requested THEN 'c'
               ELSE input.outcome
           END AS effective
    FROM input
    JOIN {schema}.jobs AS j ON j.id = input.id
    WHERE j.state = 'running' AND j.lease_owner = input.lease_owner AND j.attempt = input.attempt
      AND (NOT input.rescue OR j.lease_until <= now())
    ORDER BY j.id
    {lock}
),
updated AS (
    UPDATE {schema}.jobs AS j
    SET state = CASE d.effective
                    WHEN 's' THEN 'succeeded' WHEN 'r' THEN 'retrying' WHEN 'd' THEN 'dead'
                    WHEN 'c' THEN 'cancelled' ELSE 'available' END::{schema}.job_state,
        result = CASE WHEN d.effective = 's' THEN d.result ELSE j.result END,
        -- The succeeded attempt's lines stay on the job row, like its node; other attempts keep theirs in job_attempts.
        logs = CASE WHEN d.effective = 's' THEN d.logs END,
        last_error = coalesce(d.error, j.last_error),
        failures = j.failures + CASE WHEN d.effective IN ('r', 'd') THEN 1 ELSE 0 END,
        run_at = CASE d.effective WHEN 'r' THEN now() + d.retry_delay_ms * interval '1 millisecond'
                                  WHEN 'l' THEN now() ELSE j.run_at END,
        finished_at = CASE WHEN d.effective IN ('s', 'd', 'c') THEN now() END,
        -- A success keeps its node: the succeeded attempt is read from the job row (list_attempts.sql), not stored twice.
        lease_owner = CASE WHEN d.effective = 's' THEN j.lease_owner END, lease_until = NULL, cancel_requested = false
    FROM decided AS d
    WHERE j.id = d.id
    RETURNING j.id, j.queue, j.state, d.attempt, d.lease_owner, d.attempted_at, d.effective, d.rescue, d.error, d.logs
),
history AS (
    INSERT INTO {schema}.job_attempts (job_id, attempt, node, started_at, finished_at, outcome, error, logs)
    SELECT u.id, u.attempt, u.lease_owner, u.attempted_at, now(),
           CASE
               WHEN u.effective = 's' THEN 'succeeded'
               WHEN u.effective = 'c' THEN 'cancelled'
               WHEN u.effective = 'l' THEN 'interrupted'
               WHEN u.rescue THEN 'lease_expired'
               ELSE 'failed'
           END,
           u.error, u.logs
    FROM updated AS u
    WHERE u.effective <> 's'
)
SELECT id,
       (SELECT count(*) FROM (SELECT pg_notify($10, 'a:' || queue) FROM (SELECT DISTINCT queue FROM updated WHERE state = 'available') AS q) AS hint)
FROM updated;
