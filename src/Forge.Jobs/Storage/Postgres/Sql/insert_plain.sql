-- Inserts a job that needs none of insert.sql's checks: no idempotency key, dependency, batch or bounded queue (the
-- store uses it for one job per call). Its id is drawn up front and reported in the shape insert.sql reports ids. The
-- W3C trace context ($14, $15) is a null array when the job has none.
WITH input AS (
    SELECT nextval('{schema}.jobs_id_seq'::regclass) AS id, i.*
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::integer[], $6::bigint[],
                $7::timestamptz[], $8::bigint[], $9::jsonb[], $10::bigint[], $11::bigint[], $12::double precision[],
                $13::integer[], $14::text[], $15::text[])
         WITH ORDINALITY AS i(type, queue, payload, priority, max_retries, timeout_ms,
                              run_at, delay_ms, tags, backoff_initial_ms, backoff_max_ms, backoff_jitter, payload_bytes,
                              trace_parent, trace_state, ord)
),
inserted AS (
    INSERT INTO {schema}.jobs (id, type, queue, state, priority, max_retries, timeout_ms, payload, payload_bytes, run_at, tags,
                               backoff_initial_ms, backoff_max_ms, backoff_jitter, trace_parent, trace_state)
    SELECT id, type, queue, CASE WHEN due > now() THEN 'scheduled' ELSE 'available' END::{schema}.job_state,
           priority, max_retries, timeout_ms, payload, payload_bytes, due,
           CASE WHEN tags = '[]' THEN '{}' ELSE ARRAY(SELECT jsonb_array_elements_text(tags)) END,
           backoff_initial_ms, backoff_max_ms, backoff_jitter, trace_parent, trace_state
    FROM (SELECT input.*, coalesce(run_at, now() + delay_ms * interval '1 millisecond') AS due FROM input) AS timed
)
SELECT ord, id, NULL::text AS full_queue, NULL::integer AS max_length, NULL::bigint AS missing_parent
FROM input
ORDER BY ord;
