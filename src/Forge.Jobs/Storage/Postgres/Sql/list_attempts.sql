-- The attempts of a job: every attempt that did not succeed has a row of its own; a succeeded attempt is read from the
-- job row, which keeps the node that ran it (a success stored by an earlier version has a row of its own).
SELECT attempt, node, started_at, finished_at, outcome, error, logs
FROM {schema}.job_attempts
WHERE job_id = $1
UNION ALL
SELECT j.attempt, j.lease_owner, j.attempted_at, j.finished_at, 'succeeded', NULL, j.logs
FROM {schema}.jobs AS j
WHERE j.id = $1 AND j.state = 'succeeded' AND j.lease_owner IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {schema}.job_attempts AS a WHERE a.job_id = j.id AND a.attempt = j.attempt)
ORDER BY attempt;
