#!/usr/bin/env bash
# The tests, on a fresh machine with Python 3.11: installs the project with its dev
# extras into .venv, then lints, validates the Dagster definitions and runs pytest.
set -euo pipefail
cd "$(dirname "$0")"
EXTRAS=dev source ./scripts/setup.sh
bash scripts/install-browser.sh  # chromium and CJK fonts for the report's browser test
.venv/bin/ruff check .
.venv/bin/dagster definitions validate -m taobao_pipeline.definitions
exec .venv/bin/pytest -q "$@"
