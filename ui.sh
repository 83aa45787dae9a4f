#!/usr/bin/env bash
# The Dagster UI and daemon (schedules, sensors) on http://127.0.0.1:3000, with run
# history kept in .dagster_home.
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/setup.sh
exec .venv/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p "${PORT:-3000}"
