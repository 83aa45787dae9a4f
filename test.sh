#!/usr/bin/env bash
# The tests: installs exactly requirements/dev.txt into .venv (any Python 3.11 to 3.14),
# then lints, checks the Dagster definitions and runs pytest (which also proves that the
# lock resolves for every supported Python).
set -euo pipefail
cd "$(dirname "$0")"
EXTRAS=dev source ./scripts/setup.sh
bash scripts/install-browser.sh  # chromium and CJK fonts for the report's browser test
ruff check .
# checking opens an instance: a throwaway one (telemetry off, as the project's), so that
# the user's .dagster_home keeps only their own runs; the tests make their own too
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp .dagster_home/dagster.yaml "$scratch/"
DAGSTER_HOME="$scratch" dg check defs
pytest -q "$@"
