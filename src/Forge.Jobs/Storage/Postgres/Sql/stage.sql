-- Makes the due scheduled and retrying jobs of the queues about to be claimed available, up to each queue's claim
-- limit, earliest first. It runs in the claim's transaction just before the claim, whose statement snapshot then sees
-- them, so that a due job of a higher priority competes with the available ones. SKIP LOCKED: another claimer may be
-- staging the same jobs.
WITH staged AS (
    UPDATE {schema}.jobs AS j
    SET state = 'available'
    WHERE j.id = ANY (ARRAY(
        SELECT due.id
        FROM unnest($1::text[], $2::integer[]) AS l(queue, n)
        CROSS JOIN LATERAL (
            SELECT id FROM {schema}.jobs
            WHERE queue = l.queue AND state IN ('scheduled', 'retrying') AND run_at <= now()
            ORDER BY run_at
            LIMIT l.n
            FOR UPDATE SKIP LOCKED
        ) AS due))
    RETURNING 1
)
SELECT count(*) FROM staged;
