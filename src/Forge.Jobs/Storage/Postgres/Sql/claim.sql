-- Claims due jobs for several queues in one statement: per queue up to its limit, highest priority first,
-- then run-at, then insertion; paused queues are skipped. SKIP LOCKED lets concurrent claimers take disjoint
-- jobs without waiting.
WITH limits AS (
    SELECT l.queue, l.n FROM unnest($2::text[], $3::integer[]) AS l(queue, n)
    WHERE NOT EXISTS (SELECT 1 FROM {schema}.queues AS q WHERE q.name = l.queue AND q.paused)
),
picked AS (
    SELECT candidate.id
    FROM limits
    CROSS JOIN LATERAL (
        SELECT id FROM {schema}.jobs
        WHERE queue = limits.queue
          AND state IN ('available', 'scheduled', 'retrying')
          AND run_at <= now()
        ORDER BY priority DESC, run_at, id
        LIMIT limits.n
        FOR UPDATE SKIP LOCKED
    ) AS candidate
),
claimed AS (
    UPDATE {schema}.jobs AS j
    SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
        lease_owner = $1, lease_until = now() + $4 * interval '1 millisecond'
    -- An array, not a join: the planner cannot guess the size of picked, and a join may scan the whole table.
    WHERE j.id = ANY (ARRAY(SELECT id FROM picked))
    RETURNING j.id, j.type, j.queue, j.priority, j.attempt, j.max_retries, j.timeout_ms, j.payload::text,
              j.backoff_initial_ms, j.backoff_max_ms, j.backoff_jitter, j.run_at, j.failures
)
SELECT id, type, queue, priority, attempt, max_retries, timeout_ms, payload, backoff_initial_ms, backoff_max_ms, backoff_jitter, failures
FROM claimed
ORDER BY priority DESC, run_at, id;
