-- Forge.Jobs schema, version 8: the claim index holds only available jobs. Scheduled and retrying jobs wait in jobs_due
-- until a claim of their queue stages them (stage.sql), so a claim never walks past jobs that are not due yet, however
-- many of them a queue holds or however high their priority.
DROP INDEX {schema}.jobs_claim;
CREATE INDEX jobs_claim ON {schema}.jobs (queue, priority DESC, run_at, id) WHERE state = 'available';
