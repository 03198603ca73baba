-- The running jobs whose lease $1 holds, except the ids in $2, with their attempts: what a node holds without
-- knowing it (a claim that committed but whose answer was lost). Read from the partial index of running jobs.
SELECT id, attempt
FROM {schema}.jobs
WHERE state = 'running' AND lease_owner = $1 AND id <> ALL ($2::bigint[])
ORDER BY id;
