-- Serializes bounded enqueues per queue until the transaction ends, so the length check of the insert that
-- follows in the same transaction sees every earlier enqueue. Queues come sorted, so lockers never deadlock.
SELECT count(pg_advisory_xact_lock(hashtext($1 || ' queue ' || queue))) FROM unnest($2::text[]) AS q(queue);
