-- Forge.Jobs schema, version 6: cron schedules. (Version 5 belongs to other work; versions need not be contiguous.)

-- One row per schedule. next_run_at is the schedule's cursor, the earliest occurrence not yet handled, on the
-- nodes' clocks: the leader moves it with a compare-and-set in the transaction that inserts the occurrence's jobs.
CREATE TABLE {schema}.schedules (
    name                text PRIMARY KEY,
    expression          text NOT NULL,
    time_zone           text NOT NULL,
    misfire             text NOT NULL CHECK (misfire IN ('skip', 'run_once')),
    type                text NOT NULL,
    queue               text NOT NULL,
    payload             jsonb NOT NULL,
    priority            smallint NOT NULL CHECK (priority BETWEEN 0 AND 9),
    max_retries         integer NOT NULL CHECK (max_retries >= 0),
    timeout_ms          bigint NOT NULL CHECK (timeout_ms > 0),
    tags                text[] NOT NULL DEFAULT '{}',
    backoff_initial_ms  bigint,
    backoff_max_ms      bigint,
    backoff_jitter      double precision,
    paused              boolean NOT NULL DEFAULT false,
    next_run_at         timestamptz,
    last_run_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- The leader's scan for due schedules and its wait for the next one.
CREATE INDEX schedules_due ON {schema}.schedules (next_run_at) WHERE NOT paused;
