-- Records that a node is alive (creating its row on the first beat) and returns whether a drain was requested.
-- A starting node resets a row left by an earlier process with the same id.
INSERT INTO {schema}.nodes AS n (id, queues, draining)
VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, draining = excluded.draining,
    started_at = CASE WHEN $4 THEN now() ELSE n.started_at END,
    drain_requested = n.drain_requested AND NOT $4
RETURNING n.drain_requested;
