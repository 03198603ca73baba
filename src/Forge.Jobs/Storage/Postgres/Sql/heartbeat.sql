-- Records that a node is alive (creating its row on the first beat) and returns whether a drain was requested, with
-- the stored settings of the node's queues: one row per queue that has any, or one row without a queue.
-- A starting node resets a row left by an earlier process with the same id.
WITH beat AS (
    INSERT INTO {schema}.nodes AS n (id, queues, draining)
    VALUES ($1, $2, $3)
    ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, draining = excluded.draining,
        started_at = CASE WHEN $4 THEN now() ELSE n.started_at END,
        drain_requested = n.drain_requested AND NOT $4
    RETURNING n.drain_requested
)
SELECT beat.drain_requested, q.name, q.concurrency, q.global_limit
FROM beat
LEFT JOIN {schema}.queues AS q
    ON q.name = ANY ($2::text[]) AND (q.concurrency IS NOT NULL OR q.global_limit IS NOT NULL);
