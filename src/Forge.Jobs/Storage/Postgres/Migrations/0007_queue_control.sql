-- Forge.Jobs schema, version 7: queue control (a concurrency for every node, a cap on running jobs across the
-- cluster) and the indexes that the claim reads for them.

-- Null: each node's configured QueueOptions.Concurrency, and no cap.
ALTER TABLE {schema}.queues
    ADD COLUMN concurrency integer CHECK (concurrency > 0),
    ADD COLUMN global_limit integer CHECK (global_limit > 0);

-- When the next scheduled or retrying job of a queue is due, read by a claim that came back short so that an idle node
-- sleeps until then. Jobs due at once are inserted available and never enter it.
CREATE INDEX jobs_due ON {schema}.jobs (queue, run_at) WHERE state IN ('scheduled', 'retrying');

-- Running jobs by queue, then lease expiry: a claim of a queue with a global limit counts the queue's running jobs,
-- and the rescuer finds expired leases. It replaces jobs_lease (lease_until), so a claim keeps updating one index of
-- running jobs; the rescuer now sorts the expired ones, which are few.
DROP INDEX {schema}.jobs_lease;
CREATE INDEX jobs_running ON {schema}.jobs (queue, lease_until) WHERE state = 'running';
