SELECT idempotency_key, id FROM {schema}.jobs WHERE idempotency_key = ANY ($1::text[]);
