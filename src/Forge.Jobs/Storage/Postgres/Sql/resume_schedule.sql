-- Resumes a paused schedule from the cursor the caller computed, provided the expression and time zone it computed it
-- from are still the schedule's; a schedule that is not paused keeps its cursor. Returns a row when it matched.
UPDATE {schema}.schedules
SET next_run_at = CASE WHEN paused THEN $4 ELSE next_run_at END,
    updated_at = CASE WHEN paused THEN now() ELSE updated_at END,
    paused = false
WHERE name = $1 AND expression = $2 AND time_zone = $3
RETURNING name;
