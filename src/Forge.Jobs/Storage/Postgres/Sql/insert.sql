-- Inserts many jobs in one statement. Ids are drawn up front, in input order, so each input row can be
-- matched to its job; a row whose idempotency key is already stored inserts nothing and reports no id here
-- (the caller looks the stored job up). When a bounded queue would pass its max length, nothing is inserted
-- and the full queue is reported in a row of its own (ord 0).
WITH input AS (
    SELECT nextval(pg_get_serial_sequence('{schema}.jobs', 'id')) AS id, i.*
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::integer[], $6::bigint[],
                $7::timestamptz[], $8::bigint[], $9::text[], $10::jsonb[], $11::bigint[], $12::bigint[], $13::double precision[], $14::integer[])
         WITH ORDINALITY AS i(type, queue, payload, priority, max_retries, timeout_ms,
                              run_at, delay_ms, idempotency_key, tags, backoff_initial_ms, backoff_max_ms, backoff_jitter,
                              max_length, ord)
),
timed AS (
    SELECT input.*, coalesce(run_at, now() + delay_ms * interval '1 millisecond') AS due FROM input
),
bounds AS (
    SELECT queue, max(max_length) AS max_length, count(*) AS adding
    FROM input
    WHERE max_length IS NOT NULL
      AND (idempotency_key IS NULL OR NOT EXISTS (SELECT 1 FROM {schema}.jobs AS j WHERE j.idempotency_key = input.idempotency_key))
    GROUP BY queue
),
full_queues AS (
    SELECT bounds.queue, bounds.max_length
    FROM bounds
    WHERE bounds.adding + (
        SELECT count(*) FROM (
            SELECT 1 FROM {schema}.jobs AS j
            WHERE j.queue = bounds.queue AND j.state IN ('available', 'scheduled', 'retrying')
            LIMIT bounds.max_length) AS waiting) > bounds.max_length
),
inserted AS (
    INSERT INTO {schema}.jobs (id, type, queue, state, priority, max_retries, timeout_ms, payload, run_at,
                               idempotency_key, tags, backoff_initial_ms, backoff_max_ms, backoff_jitter)
    SELECT id, type, queue,
           CASE WHEN due > now() THEN 'scheduled' ELSE 'available' END::{schema}.job_state,
           priority, max_retries, timeout_ms, payload, due, idempotency_key,
           ARRAY(SELECT jsonb_array_elements_text(tags)), backoff_initial_ms, backoff_max_ms, backoff_jitter
    FROM timed
    WHERE NOT EXISTS (SELECT 1 FROM full_queues)
    -- Keys in one order for every caller, so two batches sharing keys cannot deadlock on the unique index.
    ORDER BY idempotency_key COLLATE "C", ord
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
)
SELECT timed.ord, inserted.id, NULL::text AS full_queue, NULL::integer AS max_length
FROM timed LEFT JOIN inserted ON inserted.id = timed.id
UNION ALL
SELECT 0, NULL, queue, max_length FROM full_queues
ORDER BY 1;
