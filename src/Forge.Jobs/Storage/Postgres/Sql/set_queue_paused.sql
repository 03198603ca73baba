-- Pauses or resumes a queue for the whole cluster; a resume wakes the nodes that serve it.
WITH changed AS (
    INSERT INTO {schema}.queues AS q (name, paused) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = now()
    RETURNING q.name, q.paused
)
SELECT (SELECT count(*) FROM (SELECT pg_notify($3, 'a:' || name) FROM changed WHERE NOT paused) AS hint) FROM changed;
