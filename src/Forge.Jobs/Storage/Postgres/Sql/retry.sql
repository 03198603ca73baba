-- Makes a dead or cancelled job available for (at least) one more attempt, and hints its queue.
WITH retried AS (
    UPDATE {schema}.jobs
    SET state = 'available', run_at = now(), finished_at = NULL, max_retries = greatest(max_retries, failures)
    WHERE id = $1 AND state IN ('dead', 'cancelled')
    RETURNING queue
)
SELECT queue, (SELECT count(*) FROM (SELECT pg_notify($2, 'a:' || queue) FROM retried) AS hint) FROM retried;
