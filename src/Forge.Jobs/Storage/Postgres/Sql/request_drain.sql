UPDATE {schema}.nodes SET drain_requested = true WHERE id = $1 RETURNING id;
