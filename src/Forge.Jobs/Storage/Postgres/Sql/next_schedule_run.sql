SELECT min(next_run_at) FROM {schema}.schedules WHERE NOT paused AND next_run_at > $1;
