-- Claims available jobs for several queues in one statement (stage.sql, just before it, made the due ones available): per
-- queue up to its limit, highest priority first, then run-at, then insertion; paused queues are skipped. SKIP LOCKED lets concurrent claimers take disjoint jobs
-- without waiting. A queue with a global limit takes no more than the limit minus its running jobs, counted after
-- this transaction took the queue's advisory lock ($5 lists the queues locked by the statement before this one, so
-- the count sees every claim committed before). A limited queue that is not locked takes nothing and is reported
-- (unlocked), so that the caller can lock it and claim again.
-- With a byte budget ($6), the claim takes jobs in claim order across the queues only while their payloads fit in it.
-- Every row also carries next_due_ms: for the queues that got fewer jobs than asked, how long until the earliest
-- scheduled or retrying job is due; null when none did (it is then not looked up) or none waits; the queues that had
-- more jobs than the budget let it take (cut), and the payload bytes it took. With no job claimed, one row of nulls
-- carries them. Each job's W3C trace context, if it was stored with one, comes last.
WITH requested AS (
    SELECT l.queue, l.n, q.global_limit
    FROM unnest($2::text[], $3::integer[]) AS l(queue, n)
    LEFT JOIN {schema}.queues AS q ON q.name = l.queue
    WHERE q.paused IS NOT TRUE
),
limits AS (
    SELECT queue, n,
           CASE
               WHEN global_limit IS NULL THEN n
               WHEN queue = ANY ($5::text[]) THEN least(n, global_limit - (
                   SELECT count(*) FROM (
                       SELECT 1 FROM {schema}.jobs AS r
                       WHERE r.queue = requested.queue AND r.state = 'running'
                       LIMIT requested.global_limit) AS running))
               ELSE 0
           END AS room,
           global_limit IS NOT NULL AND queue <> ALL ($5::text[]) AS unlocked
    FROM requested
),
-- The byte budget ($6, none when null) weighs the candidates in claim order across the queues: one is taken while the
-- payloads up to it add up to no more than the budget, or when it is the first and $7 is true. A candidate not taken
-- is left as it is; its lock ends with this transaction.
picked AS (
    SELECT candidate.id, candidate.queue, candidate.bytes,
           $6::bigint IS NULL OR sum(candidate.bytes) OVER w <= $6::bigint OR (row_number() OVER w = 1 AND $7::boolean) AS taken
    FROM limits
    CROSS JOIN LATERAL (
        SELECT id, queue, priority, run_at, coalesce(payload_bytes, octet_length(payload::text)) AS bytes
        FROM {schema}.jobs
        WHERE queue = limits.queue AND state = 'available'
        ORDER BY priority DESC, run_at, id
        LIMIT limits.room
        FOR UPDATE SKIP LOCKED
    ) AS candidate
    WINDOW w AS (ORDER BY candidate.priority DESC, candidate.run_at, candidate.id ROWS UNBOUNDED PRECEDING)
),
claimed AS (
    UPDATE {schema}.jobs AS j
    SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
        lease_owner = $1, lease_until = now() + $4 * interval '1 millisecond'
    -- An array, not a join: the planner cannot guess the size of picked, and a join may scan the whole table.
    WHERE j.id = ANY (ARRAY(SELECT id FROM picked WHERE taken))
    RETURNING j.id, j.type, j.queue, j.priority, j.attempt, j.max_retries, j.timeout_ms, j.payload::text,
              j.backoff_initial_ms, j.backoff_max_ms, j.backoff_jitter, j.run_at, j.failures, j.trace_parent, j.trace_state
),
short AS (
    SELECT limits.queue FROM limits
    WHERE limits.n > (SELECT count(*) FROM claimed WHERE claimed.queue = limits.queue)
),
info AS (
    SELECT (SELECT ceil(extract(epoch FROM min(due.run_at) - now()) * 1000)::bigint
            FROM short
            CROSS JOIN LATERAL (
                SELECT run_at FROM {schema}.jobs
                WHERE queue = short.queue AND state IN ('scheduled', 'retrying') AND run_at > now()
                ORDER BY run_at
                LIMIT 1
            ) AS due) AS next_due_ms,
           ARRAY(SELECT queue FROM limits WHERE unlocked) AS unlocked,
           ARRAY(SELECT DISTINCT queue FROM picked WHERE NOT taken) AS cut,
           (SELECT coalesce(sum(bytes), 0) FROM picked WHERE taken)::bigint AS bytes
)
SELECT c.id, c.type, c.queue, c.priority, c.attempt, c.max_retries, c.timeout_ms, c.payload, c.backoff_initial_ms,
       c.backoff_max_ms, c.backoff_jitter, c.failures, info.next_due_ms, info.unlocked, info.cut, info.bytes,
       greatest((extract(epoch FROM now() - c.run_at) * 1000)::bigint, 0) AS waited_ms, c.trace_parent, c.trace_state
FROM info LEFT JOIN claimed AS c ON true
ORDER BY c.priority DESC, c.run_at, c.id;
