-- Follows a completion or cancellation in the same transaction, as a statement of its own so that it sees
-- dependencies added by enqueues that committed while the completion waited for its locks. Hints the queues of
-- the children it released.
SELECT count(*) FROM (
    SELECT pg_notify($2, 'a:' || queue) FROM (SELECT DISTINCT queue FROM {schema}.resolve_children($1::bigint[]) AS r(queue)) AS q
) AS hint;
