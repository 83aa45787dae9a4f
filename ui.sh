#!/usr/bin/env bash
# The Dagster UI and daemon (schedules, sensors) on http://127.0.0.1:3000 (PORT=... for
# another port), with run history kept in .dagster_home.
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/setup.sh
exec dg dev --host 127.0.0.1 --port "${PORT:-3000}"
