-- Forge.Jobs schema, version 11: the lines a handler logged during an attempt, as a jsonb array of
-- {"at", "level", "message", "exception"}, bounded by the node that ran it. A failed, cancelled or interrupted attempt
-- keeps them on its job_attempts row; the succeeded attempt, which has no row of its own, keeps them on the job row.
-- Attempts stored before this version and attempts that logged nothing have none. Nullable columns without a default
-- rewrite nothing.
ALTER TABLE {schema}.jobs ADD COLUMN logs jsonb;
ALTER TABLE {schema}.job_attempts ADD COLUMN logs jsonb;
