-- Inserts many jobs in one statement. Ids are drawn up front, in input order, so each input row can be
-- matched to its job; a row whose idempotency key is already stored inserts nothing and reports no id here
-- (the caller looks the stored job up).
WITH input AS (
    SELECT nextval(pg_get_serial_sequence('{schema}.jobs', 'id')) AS id, i.*
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::integer[], $6::bigint[],
                $7::timestamptz[], $8::bigint[], $9::text[], $10::jsonb[], $11::bigint[], $12::bigint[], $13::double precision[])
         WITH ORDINALITY AS i(type, queue, payload, priority, max_retries, timeout_ms,
                              run_at, delay_ms, idempotency_key, tags, backoff_initial_ms, backoff_max_ms, backoff_jitter, ord)
),
timed AS (
    SELECT input.*, coalesce(run_at, now() + delay_ms * interval '1 millisecond') AS due FROM input
),
inserted AS (
    INSERT INTO {schema}.jobs (id, type, queue, state, priority, max_retries, timeout_ms, payload, run_at,
                               idempotency_key, tags, backoff_initial_ms, backoff_max_ms, backoff_jitter)
    SELECT id, type, queue,
           CASE WHEN due > now() THEN 'scheduled' ELSE 'available' END::{schema}.job_state,
           priority, max_retries, timeout_ms, payload, due, idempotency_key,
           ARRAY(SELECT jsonb_array_elements_text(tags)), backoff_initial_ms, backoff_max_ms, backoff_jitter
    FROM timed
    ORDER BY ord
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
)
SELECT timed.ord, inserted.id
FROM timed LEFT JOIN inserted ON inserted.id = timed.id
ORDER BY timed.ord;
