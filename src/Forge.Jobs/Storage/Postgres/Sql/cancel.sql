-- Cancels a job that has not started, or asks the node that runs it to cancel it (and tells it through NOTIFY).
WITH target AS (
    SELECT id, state FROM {schema}.jobs WHERE id = $1 FOR UPDATE
),
changed AS (
    UPDATE {schema}.jobs AS j
    SET state = CASE WHEN t.state = 'running' THEN j.state ELSE 'cancelled' END,
        cancel_requested = (t.state = 'running'),
        finished_at = CASE WHEN t.state = 'running' THEN NULL ELSE now() END
    FROM target AS t
    WHERE j.id = t.id AND t.state NOT IN ('succeeded', 'dead', 'cancelled')
    RETURNING t.state = 'running' AS running
)
SELECT t.state::text,
       (SELECT running FROM changed),
       (SELECT count(*) FROM (SELECT pg_notify($2, 'c:' || $1::text) FROM changed WHERE running) AS hint)
FROM target AS t;
