#!/usr/bin/env bash
# The tests, in two tiers. Both install exactly requirements/dev.txt into .venv (any Python
# 3.11 to 3.14) and lint with ruff; arguments after the option go to pytest.
#   ./test.sh          everything (CI runs this): also the browser for the report's browser
#                      test, `dg check defs`, and pytest over unit/ and integration/ (Dagster
#                      runs, the command in processes of its own, a fresh clone's run.sh, the
#                      lock resolved for every supported Python, the webserver, Chromium)
#   ./test.sh --fast   the unit tier, taobao_pipeline_tests/unit/: pure functions, the SQL
#                      against the rules on tiny stagings, the declarations' consistency;
#                      no browser install and no `dg check defs` (9 s to load the definitions
#                      that unit/test_asset_graph.py loads too)
set -euo pipefail
cd "$(dirname "$0")"
fast=false
if [ "${1:-}" = --fast ]; then
    fast=true
    shift
fi
EXTRAS=dev source ./scripts/setup.sh
ruff check .
if $fast; then
    exec pytest -q taobao_pipeline_tests/unit "$@"
fi
bash scripts/install-browser.sh  # chromium and CJK fonts for the report's browser test
# checking opens an instance: a throwaway one (telemetry off, as the project's), so that
# the user's .dagster_home keeps only their own runs; the tests make their own too
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp .dagster_home/dagster.yaml "$scratch/"
DAGSTER_HOME="$scratch" dg check defs
pytest -q "$@"
