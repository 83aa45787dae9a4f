#!/usr/bin/env bash
# The tests: installs exactly requirements/dev.txt into .venv (any Python 3.11 to 3.14),
# then lints, checks the Dagster definitions and runs pytest (which also proves that the
# lock resolves for every supported Python). The tests make their own DAGSTER_HOME.
set -euo pipefail
cd "$(dirname "$0")"
EXTRAS=dev source ./scripts/setup.sh
ruff check .
dg check defs
exec pytest -q "$@"
