-- Serializes the claims of queues with a global limit until the transaction ends, so the claim that follows in the
-- same transaction counts every running job claimed before it. Queues come sorted, so claimers never deadlock.
SELECT count(pg_advisory_xact_lock(hashtextextended($1 || ' global limit ' || queue, 0))) FROM unnest($2::text[]) AS q(queue);
