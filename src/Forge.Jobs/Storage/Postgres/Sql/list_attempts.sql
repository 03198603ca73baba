SELECT attempt, node, started_at, finished_at, outcome, error
FROM {schema}.job_attempts
WHERE job_id = $1
ORDER BY attempt;
