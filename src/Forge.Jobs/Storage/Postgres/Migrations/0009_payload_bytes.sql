-- Forge.Jobs schema, version 9: each job's payload size, in UTF-8 bytes as the client serialized it, so that a claim can
-- bound the bytes it takes by reading a number from rows it locks anyway instead of rendering their jsonb as text.
-- Jobs stored before this version have none; a claim measures those as text. Adding a nullable column without a
-- default rewrites nothing.
ALTER TABLE {schema}.jobs ADD COLUMN payload_bytes integer;
