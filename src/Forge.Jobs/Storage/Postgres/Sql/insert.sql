-- Inserts many jobs in one statement. Ids are drawn up front, in input order, so each input row can be
-- matched to its job; a row whose idempotency key is already stored inserts nothing and reports no id here
-- (the caller looks the stored job up). When a bounded queue would pass its max length, or a parent named by a
-- dependency does not exist, nothing is inserted and the problem is reported in a row of its own (ord 0).
-- Dependencies name a stored parent by id or a parent of the same call by its row; stored parents are locked
-- until this insert commits, so a parent finishing meanwhile either is seen finished here or finds these
-- dependencies when it resolves its children. Rows of a batch ($15 role 1, its callback role 2) create batch $20.
-- The W3C trace contexts ($22, $23) are a null array when no row has one.
WITH RECURSIVE input AS (
    SELECT nextval(pg_get_serial_sequence('{schema}.jobs', 'id')) AS id, i.*
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::smallint[], $5::integer[], $6::bigint[],
                $7::timestamptz[], $8::bigint[], $9::text[], $10::jsonb[], $11::bigint[], $12::bigint[], $13::double precision[], $14::integer[],
                $15::smallint[], $21::integer[], $22::text[], $23::text[])
         WITH ORDINALITY AS i(type, queue, payload, priority, max_retries, timeout_ms,
                              run_at, delay_ms, idempotency_key, tags, backoff_initial_ms, backoff_max_ms, backoff_jitter,
                              max_length, batch_role, payload_bytes, trace_parent, trace_state, ord)
),
deps AS (
    SELECT d.child, coalesce(d.parent_id, parent.id) AS parent_id, d.parent_row, d.run_anyway
    FROM unnest($16::integer[], $17::bigint[], $18::integer[], $19::boolean[]) AS d(child, parent_id, parent_row, run_anyway)
    LEFT JOIN input AS parent ON parent.ord = d.parent_row
),
stored_parents AS (
    SELECT j.id, j.state FROM {schema}.jobs AS j
    WHERE j.id IN (SELECT parent_id FROM deps WHERE parent_row IS NULL)
    ORDER BY j.id
    FOR SHARE
),
missing_parents AS (
    SELECT DISTINCT deps.parent_id FROM deps
    WHERE deps.parent_row IS NULL AND NOT EXISTS (SELECT 1 FROM stored_parents AS s WHERE s.id = deps.parent_id)
),
-- Rows born cancelled: a parent ended dead or cancelled (or is born cancelled) and the dependency is not run-anyway.
doomed AS (
    SELECT deps.child FROM deps JOIN stored_parents AS s ON s.id = deps.parent_id
    WHERE deps.parent_row IS NULL AND NOT deps.run_anyway AND s.state IN ('dead', 'cancelled')
    UNION
    SELECT deps.child FROM deps JOIN doomed ON deps.parent_row = doomed.child
    WHERE NOT deps.run_anyway
),
edges AS (
    SELECT deps.child, deps.parent_id, deps.run_anyway,
           coalesce(s.state IN ('succeeded', 'dead', 'cancelled'), false)
           OR deps.parent_row IN (SELECT child FROM doomed) IS TRUE
           OR deps.child IN (SELECT child FROM doomed) AS resolved
    FROM deps LEFT JOIN stored_parents AS s ON s.id = deps.parent_id AND deps.parent_row IS NULL
),
timed AS (
    SELECT input.*, coalesce(run_at, now() + delay_ms * interval '1 millisecond') AS due,
           input.ord IN (SELECT child FROM doomed) AS born_cancelled,
           input.ord IN (SELECT child FROM edges WHERE NOT edges.resolved) AS waits
    FROM input
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
    INSERT INTO {schema}.jobs (id, type, queue, state, priority, max_retries, timeout_ms, payload, payload_bytes, run_at,
                               idempotency_key, tags, backoff_initial_ms, backoff_max_ms, backoff_jitter,
                               batch_id, finished_at, last_error, trace_parent, trace_state)
    SELECT id, type, queue,
           CASE WHEN born_cancelled THEN 'cancelled' WHEN waits THEN 'waiting'
                WHEN due > now() THEN 'scheduled' ELSE 'available' END::{schema}.job_state,
           priority, max_retries, timeout_ms, payload, payload_bytes, due, idempotency_key,
           ARRAY(SELECT jsonb_array_elements_text(tags)), backoff_initial_ms, backoff_max_ms, backoff_jitter,
           CASE WHEN batch_role > 0 THEN $20::uuid END,
           CASE WHEN born_cancelled THEN now() END,
           CASE WHEN born_cancelled THEN 'Cancelled because a job it depends on ended dead or cancelled.' END,
           trace_parent, trace_state
    FROM timed
    WHERE NOT EXISTS (SELECT 1 FROM full_queues) AND NOT EXISTS (SELECT 1 FROM missing_parents)
    -- Keys in one order for every caller, so two batches sharing keys cannot deadlock on the unique index.
    ORDER BY idempotency_key COLLATE "C", ord
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
),
edges_inserted AS (
    INSERT INTO {schema}.job_dependencies (job_id, parent_id, run_anyway, resolved)
    SELECT child.id, edges.parent_id, edges.run_anyway, edges.resolved
    FROM edges
    JOIN input AS child ON child.ord = edges.child
    JOIN inserted ON inserted.id = child.id
),
batch_inserted AS (
    INSERT INTO {schema}.batches (id, total, callback_job_id)
    SELECT $20::uuid, count(*) FILTER (WHERE input.batch_role = 1), max(input.id) FILTER (WHERE input.batch_role = 2)
    FROM input JOIN inserted ON inserted.id = input.id
    HAVING $20::uuid IS NOT NULL AND count(*) > 0
)
SELECT timed.ord, inserted.id, NULL::text AS full_queue, NULL::integer AS max_length, NULL::bigint AS missing_parent
FROM timed LEFT JOIN inserted ON inserted.id = timed.id
UNION ALL
SELECT 0, NULL, queue, max_length, NULL FROM full_queues
UNION ALL
SELECT 0, NULL, NULL, NULL, parent_id FROM missing_parents
ORDER BY 1;
