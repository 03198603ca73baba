#!/usr/bin/env bash
# Measures every figure of the performance targets (docs/benchmarks.md) with the load harness, RUNS times each, and
# prints the result lines. Each run starts its own throw-away PostgreSQL with default settings unless FORGE_LOAD_PG
# names a server (the harness then uses, and drops, schemas forge_load and hangfire_load in it).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
dotnet build -c Release benchmarks/Forge.Jobs.LoadTest >/dev/null
harness=(benchmarks/Forge.Jobs.LoadTest/bin/Release/net10.0/Forge.Jobs.LoadTest)
connection=()
[ -n "${FORGE_LOAD_PG:-}" ] && connection=(--connection "$FORGE_LOAD_PG")

measure() {
  for _ in $(seq "${count:-$runs}"); do
    "${harness[@]}" "$@" "${connection[@]}" | grep '^result'
  done
}

measure drain --jobs 100000 --concurrency 1000
measure enqueue --jobs 100000 --batch 1000 --single-jobs 5000 --callers 1
measure latency --rate 100 --jobs 2000
measure sustained --rate 5000 --seconds 30 --concurrency 1000
measure drain --jobs 100000 --concurrency 1000 --finished 1000000
count=1 measure drain --jobs 100000 --concurrency 1000 --compare hangfire --compare-jobs 1000
