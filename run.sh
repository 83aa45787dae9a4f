#!/usr/bin/env bash
# The main job: installs exactly requirements/main.txt into .venv (any Python 3.11 to
# 3.14), generates the national extracts into data/raw if it holds no edition yet, then
# runs every edition through Dagster (designation_job) and prints a summary.
# Options are those of `taobao-pipeline run`, e.g. ./run.sh --editions 2019-2020.
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/setup.sh
if ! ls data/raw | grep -qE '^[0-9]{4}$'; then
    taobao-pipeline generate --out data/raw
fi
exec taobao-pipeline run "$@"
