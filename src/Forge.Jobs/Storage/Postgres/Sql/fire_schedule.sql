-- The compare-and-set of a fire, in the transaction that then inserts the occurrences' jobs. Two leaders that fire
-- with the same cursor serialize on the row lock; the second re-reads the row, finds the cursor moved, and updates
-- nothing. Returns a row when this caller won.
UPDATE {schema}.schedules
SET next_run_at = $5,
    last_run_at = coalesce($6, last_run_at)
WHERE name = $1 AND expression = $2 AND time_zone = $3 AND next_run_at = $4 AND NOT paused
RETURNING name;
