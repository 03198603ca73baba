-- A batch and its jobs (its callback not included) counted by state, shown as for a single job. One row per
-- state, or one row with a null state when no job of the batch is left.
SELECT b.total, b.callback_job_id, b.created_at, c.state, c.n
FROM {schema}.batches AS b
LEFT JOIN LATERAL (
    SELECT CASE WHEN j.state IN ('scheduled', 'retrying') AND j.run_at <= now() THEN 'available' ELSE j.state::text END AS state,
           count(*)::integer AS n
    FROM {schema}.jobs AS j
    WHERE j.batch_id = b.id AND j.id IS DISTINCT FROM b.callback_job_id
    GROUP BY 1
) AS c ON true
WHERE b.id = $1;
