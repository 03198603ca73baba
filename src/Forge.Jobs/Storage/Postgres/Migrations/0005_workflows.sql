-- Forge.Jobs schema, version 5: dependencies between jobs (workflows) and batches.

ALTER TABLE {schema}.jobs ADD COLUMN batch_id uuid;
CREATE INDEX jobs_batch ON {schema}.jobs (batch_id) WHERE batch_id IS NOT NULL;

-- One row per (child, parent). A dependency is resolved once its parent has finished, or once its child was
-- cancelled; a waiting child becomes available when none of its dependencies is unresolved. Rows are kept after
-- resolution so that a child can find its parents, and are deleted with the child.
CREATE TABLE {schema}.job_dependencies (
    job_id      bigint NOT NULL,
    parent_id   bigint NOT NULL,
    run_anyway  boolean NOT NULL,
    resolved    boolean NOT NULL,
    PRIMARY KEY (job_id, parent_id)
);

CREATE INDEX job_dependencies_parent ON {schema}.job_dependencies (parent_id);

-- Whether a child still waits is one probe here, however many of its parents have finished (a batch callback
-- may have many thousands).
CREATE INDEX job_dependencies_unresolved ON {schema}.job_dependencies (job_id) WHERE NOT resolved;

CREATE TABLE {schema}.batches (
    id               uuid PRIMARY KEY,
    total            integer NOT NULL,
    callback_job_id  bigint,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Resolves the dependencies of the children of jobs that have just finished: a child whose parent ended dead or
-- cancelled through a dependency that is not run-anyway is cancelled (and its own children resolved in turn); a
-- child with no unresolved dependency left becomes available. Returns the queues of the children released.
-- A function, so that each step runs as a statement of its own with a fresh snapshot: the children are locked
-- before their dependencies are counted, so two parents finishing at once are resolved one after the other and
-- the second sees the first's work.
CREATE FUNCTION {schema}.resolve_children(finished bigint[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    frontier bigint[] := finished;
    children bigint[];
    released text;
BEGIN
    WHILE frontier IS NOT NULL LOOP
        SELECT array_agg(DISTINCT d.job_id) INTO children
        FROM {schema}.job_dependencies AS d
        JOIN {schema}.jobs AS p ON p.id = d.parent_id
        WHERE d.parent_id = ANY (frontier) AND NOT d.resolved AND p.state IN ('succeeded', 'dead', 'cancelled');
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
