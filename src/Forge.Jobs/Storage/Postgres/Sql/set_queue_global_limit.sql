-- Stores the cap on a queue's running jobs across the cluster (null: none), and wakes the nodes that serve it, since
-- a raised or removed cap may leave room at once.
WITH changed AS (
    INSERT INTO {schema}.queues AS q (name, global_limit) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE SET global_limit = excluded.global_limit, updated_at = now()
    RETURNING q.name
)
SELECT (SELECT count(*) FROM (SELECT pg_notify($3, 'a:' || name) FROM changed) AS hint) FROM changed;
