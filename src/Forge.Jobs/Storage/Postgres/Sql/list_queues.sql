-- Every queue that has jobs or is paused, with its jobs counted by state (scheduled and retrying jobs whose
-- run-at has passed count as available, as users see them).
WITH counts AS (
    SELECT queue,
           CASE WHEN state IN ('scheduled', 'retrying') AND run_at <= now() THEN 'available' ELSE state::text END AS shown,
           count(*) AS n
    FROM {schema}.jobs
    GROUP BY 1, 2
),
names AS (
    SELECT queue AS name FROM counts UNION SELECT name FROM {schema}.queues WHERE paused
)
SELECT names.name,
       coalesce((SELECT paused FROM {schema}.queues AS q WHERE q.name = names.name), false),
       coalesce((SELECT jsonb_object_agg(shown, n) FROM counts WHERE counts.queue = names.name), '{}'::jsonb)::text
FROM names
ORDER BY names.name;
