-- Records that a node is alive (creating its row on the first beat) and returns whether a drain was requested.
INSERT INTO {schema}.nodes AS n (id, queues, draining)
VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, draining = excluded.draining
RETURNING n.drain_requested;
