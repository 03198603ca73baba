-- Tells the nodes, per queue, how long until the earliest job that an insert scheduled for later is due, in
-- milliseconds on the database clock, so that an idle node wakes for it instead of at its next poll.
SELECT count(*) FROM (
    SELECT pg_notify($1, 's:' || queue || ':' || greatest(0, floor(extract(epoch FROM
               min(coalesce(run_at, now() + delay_ms * interval '1 millisecond')) - now()) * 1000))::bigint)
    FROM unnest($2::text[], $3::timestamptz[], $4::bigint[]) AS s(queue, run_at, delay_ms)
    GROUP BY queue
) AS hint;
