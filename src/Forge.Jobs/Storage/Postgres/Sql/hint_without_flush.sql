-- Starts the transaction of a wake-up hint sent after its insert committed. Notifying gives a transaction an id, so its
-- commit would wait for a WAL flush like the insert's; the hint stores nothing, and a hint lost in a crash only
-- leaves the nodes to their next poll, so this commit does not wait.
SELECT set_config('synchronous_commit', 'off', true);
