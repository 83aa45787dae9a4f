#!/usr/bin/env bash
# The main job on the embedded defaults, on a fresh machine with Python 3.11:
# installs the project into .venv, generates the national extracts into data/raw if it
# holds no edition yet, runs every edition through Dagster and prints the national table.
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/setup.sh
if ! ls data/raw | grep -qE '^[0-9]{4}$'; then
    .venv/bin/taobao-pipeline generate --out data/raw
fi
exec .venv/bin/taobao-pipeline run "$@"
