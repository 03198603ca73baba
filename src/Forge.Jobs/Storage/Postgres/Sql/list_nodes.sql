SELECT n.id, n.queues, n.started_at, n.heartbeat_at, n.draining OR n.drain_requested,
       EXISTS (SELECT 1 FROM {schema}.leases AS l WHERE l.name = 'leader' AND l.holder = n.id AND l.expires_at > now())
FROM {schema}.nodes AS n
ORDER BY n.started_at, n.id;
