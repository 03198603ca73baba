-- Forge.Jobs schema, version 2: the nodes of the cluster and named leases (leader election).

-- One row per node process, kept fresh by its heartbeat; a drain request reaches the node at its next beat.
CREATE TABLE {schema}.nodes (
    id               text PRIMARY KEY,
    queues           text[] NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    heartbeat_at     timestamptz NOT NULL DEFAULT now(),
    draining         boolean NOT NULL DEFAULT false,
    drain_requested  boolean NOT NULL DEFAULT false
);

-- Named leases held by one node until they expire: a row, not a session advisory lock, so that leadership works
-- behind a transaction-mode pooler and survives reconnects.
CREATE TABLE {schema}.leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    expires_at  timestamptz NOT NULL
);
