-- Forge.Jobs schema, version 8, for the hot path. The claim index holds only available jobs: scheduled and retrying
-- jobs wait in jobs_due until a claim of their queue stages them (stage.sql), so a claim never walks past jobs that are
-- not due yet, however many of them a queue holds or however high their priority.
DROP INDEX {schema}.jobs_claim;
CREATE INDEX jobs_claim ON {schema}.jobs (queue, priority DESC, run_at, id) WHERE state = 'available';

-- resolve_children follows every completion. Its first step read the finished parents through a join, which a cached
-- generic plan may run as a hash over every finished job; it now looks each parent up by id, so a completion whose
-- jobs have no children costs one probe of job_dependencies per job, however many jobs have finished.
CREATE OR REPLACE FUNCTION {schema}.resolve_children(finished bigint[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    frontier bigint[] := finished;
    children bigint[];
    released text;
BEGIN
    WHILE frontier IS NOT NULL LOOP
        SELECT array_agg(DISTINCT d.job_id) INTO children
        FROM {schema}.job_dependencies AS d
        WHERE d.parent_id = ANY (frontier) AND NOT d.resolved
          AND (SELECT p.state FROM {schema}.jobs AS p WHERE p.id = d.parent_id) IN ('succeeded', 'dead', 'cancelled');
        EXIT WHEN children IS NULL;

        PERFORM 1 FROM {schema}.jobs WHERE id = ANY (children) ORDER BY id FOR UPDATE;

        -- Only the dependencies on the parents at hand, so the work is per finished parent, not per child's parents.
        WITH resolved AS (
            UPDATE {schema}.job_dependencies AS d SET resolved = true
            FROM {schema}.jobs AS p
            WHERE d.parent_id = ANY (frontier) AND d.job_id = ANY (children) AND NOT d.resolved
              AND p.id = d.parent_id AND p.state IN ('succeeded', 'dead', 'cancelled')
            RETURNING d.job_id, d.run_anyway, p.state
        ),
        cancelled AS (
            UPDATE {schema}.jobs AS j
            SET state = 'cancelled', finished_at = now(),
                last_error = 'Cancelled because a job it depends on ended dead or cancelled.'
            WHERE j.state = 'waiting'
              AND j.id IN (SELECT job_id FROM resolved WHERE NOT run_anyway AND state IN ('dead', 'cancelled'))
            RETURNING j.id
        )
        SELECT array_agg(id) INTO frontier FROM cancelled;

        UPDATE {schema}.job_dependencies SET resolved = true WHERE job_id = ANY (frontier) AND NOT resolved;

        FOR released IN
            UPDATE {schema}.jobs AS j
            SET state = CASE WHEN j.run_at > now() THEN 'scheduled' ELSE 'available' END::{schema}.job_state
            WHERE j.id = ANY (children) AND j.state = 'waiting'
              AND NOT EXISTS (SELECT 1 FROM {schema}.job_dependencies AS d WHERE d.job_id = j.id AND NOT d.resolved)
            RETURNING j.queue
        LOOP
            RETURN NEXT released;
        END LOOP;
    END LOOP;
END
$$;
