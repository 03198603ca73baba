-- Takes the named lease if it is free or expired, or renews it for its holder; returns a row only on success.
INSERT INTO {schema}.leases AS l (name, holder, expires_at)
VALUES ($1, $2, now() + $3 * interval '1 millisecond')
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE l.holder = excluded.holder OR l.expires_at <= now()
RETURNING l.holder;
