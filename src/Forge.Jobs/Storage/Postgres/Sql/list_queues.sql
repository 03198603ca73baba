-- Every queue that has jobs, is paused or has stored settings, with its jobs counted by state (scheduled and retrying
-- jobs whose run-at has passed count as available, as users see them).
WITH counts AS (
    SELECT queue,
           CASE WHEN state IN ('scheduled', 'retrying') AND run_at <= now() THEN 'available' ELSE state::text END AS shown,
           count(*) AS n
    FROM {schema}.jobs
    GROUP BY 1, 2
),
names AS (
    SELECT queue AS name FROM counts
    UNION
    SELECT name FROM {schema}.queues WHERE paused OR concurrency IS NOT NULL OR global_limit IS NOT NULL
)
SELECT names.name,
       coalesce(q.paused, false),
       coalesce((SELECT jsonb_object_agg(shown, n) FROM counts WHERE counts.queue = names.name), '{}'::jsonb)::text,
       q.concurrency,
       q.global_limit
FROM names
LEFT JOIN {schema}.queues AS q ON q.name = names.name
ORDER BY names.name;
