-- Extends the leases still held by $1 at the given attempts; reports which of them have a cancellation pending.
UPDATE {schema}.jobs AS j
SET lease_until = now() + $4 * interval '1 millisecond'
FROM unnest($2::bigint[], $3::integer[]) AS l(id, attempt)
WHERE j.id = l.id AND j.attempt = l.attempt AND j.state = 'running' AND j.lease_owner = $1
RETURNING j.id, j.cancel_requested;
