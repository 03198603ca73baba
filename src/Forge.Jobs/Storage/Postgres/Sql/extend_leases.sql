-- Extends the leases still held by $1 at the given attempts; reports which of them are held and which have a
-- cancellation pending. Rows are locked in id order and locked rows are skipped (a handler's own transaction
-- may hold one): a skipped lease is still held and is renewed at the next pass, so one busy row cannot hold back
-- the renewal of every other job on the node.
WITH held AS (
    SELECT j.id, j.cancel_requested
    FROM {schema}.jobs AS j
    JOIN unnest($2::bigint[], $3::integer[]) AS l(id, attempt) ON j.id = l.id AND j.attempt = l.attempt
    WHERE j.state = 'running' AND j.lease_owner = $1
),
locked AS (
    SELECT j.id FROM {schema}.jobs AS j
    WHERE j.id = ANY (ARRAY(SELECT id FROM held)) AND j.state = 'running' AND j.lease_owner = $1
    ORDER BY j.id
    FOR NO KEY UPDATE SKIP LOCKED
),
renewed AS (
    UPDATE {schema}.jobs AS j
    SET lease_until = now() + $4 * interval '1 millisecond'
    WHERE j.id = ANY (ARRAY(SELECT id FROM locked))
)
SELECT id, cancel_requested FROM held;
