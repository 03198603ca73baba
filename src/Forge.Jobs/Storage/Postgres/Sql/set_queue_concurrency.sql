-- Stores the concurrency of a queue for every node (null: each node's configured value).
INSERT INTO {schema}.queues AS q (name, concurrency) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET concurrency = excluded.concurrency, updated_at = now();
