-- Pauses a schedule; returns a row when it exists.
UPDATE {schema}.schedules
SET paused = true,
    updated_at = CASE WHEN paused THEN updated_at ELSE now() END
WHERE name = $1
RETURNING name;
