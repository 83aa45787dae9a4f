#!/usr/bin/env bash
# The tests, on a fresh machine with Python 3.11: installs the project with its dev
# extras into .venv, then lints, validates the Dagster definitions and runs pytest.
set -euo pipefail
cd "$(dirname "$0")"
EXTRAS=dev source ./scripts/setup.sh
.venv/bin/ruff check .
# the tests never touch the user's instance: validating opens one, so a throwaway one
# (pytest gives every test a temporary DAGSTER_HOME itself, see conftest.py)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
DAGSTER_HOME="$scratch" .venv/bin/dagster definitions validate -m taobao_pipeline.definitions
.venv/bin/pytest -q "$@"
