SELECT count(*) FROM (SELECT pg_notify($1, 'a:' || queue) FROM unnest($2::text[]) AS q(queue)) AS hint;
