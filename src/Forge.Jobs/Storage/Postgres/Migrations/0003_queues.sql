-- Forge.Jobs schema, version 3: queue state shared by the cluster.

-- A queue has a row once an operator changed it; a queue without a row runs with its defaults.
CREATE TABLE {schema}.queues (
    name        text PRIMARY KEY,
    paused      boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
