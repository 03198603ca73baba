WITH removed AS (DELETE FROM {schema}.nodes WHERE id = $1)
DELETE FROM {schema}.leases WHERE holder = $1;
