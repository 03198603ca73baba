-- Forge.Jobs schema, version 4: failed attempts are counted apart from attempts, so that attempts handed back by
-- a shutdown do not use up a job's retries.
ALTER TABLE {schema}.jobs ADD COLUMN failures integer NOT NULL DEFAULT 0;
