-- Forge.Jobs schema, version 10: the W3C trace context of where each job was enqueued (the traceparent and tracestate
-- headers' values), so that each attempt's span links back to it, in whichever process it runs. A job enqueued
-- outside any trace has none. Adding nullable columns without a default rewrites nothing.
ALTER TABLE {schema}.jobs ADD COLUMN trace_parent text, ADD COLUMN trace_state text;
