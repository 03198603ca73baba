#!/usr/bin/env bash
# The full reliability set: every scenario, the long ones included (docs/guarantees.md). Installs PgBouncer (Debian
# package pgbouncer) when it is missing, for scenario 16, then runs the suite from the repository root and prints how
# long it took. Extra arguments go to dotnet test, e.g. --filter "FullyQualifiedName~PgBouncerTests".
# FORGE_CHURN_JOBS sets the job count of scenario 17.
set -uo pipefail
cd "$(dirname "$0")/../.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ ! -x /usr/sbin/pgbouncer ]; then
  echo "Installing PgBouncer (Debian package pgbouncer) for scenario 16..."
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  { $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq pgbouncer; } >/dev/null 2>&1 \
    || echo "Could not install PgBouncer; scenario 16 will be skipped (apt-get install -y pgbouncer installs it)."
fi

start=$(date +%s)
FORGE_RELIABILITY=full dotnet test tests/Forge.Jobs.Reliability.Tests "$@"
status=$?
elapsed=$(( $(date +%s) - start ))
printf 'Full reliability set: %dm%02ds, exit code %d\n' $((elapsed / 60)) $((elapsed % 60)) "$status"
exit "$status"
