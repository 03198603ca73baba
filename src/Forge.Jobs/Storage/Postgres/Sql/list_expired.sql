SELECT id, type, queue, attempt, max_retries, backoff_initial_ms, backoff_max_ms, backoff_jitter, lease_owner, failures
FROM {schema}.jobs
WHERE state = 'running' AND lease_until <= now()
ORDER BY lease_until
LIMIT $1;
