#!/usr/bin/env bash
# Refreshes the locks in requirements/ from pyproject.toml: exact versions with hashes, one
# resolution for every supported Python (3.11 to 3.14) and platform. dev.txt (the dev and
# bench extras too) is what test.sh and CI install, main.txt (the same versions, without
# the extras) what run.sh and ui.sh install. Both hold setuptools, the build backend, so
# that the project itself installs from the lock without build isolation.
#   ./scripts/lock.sh            keep the locked versions, add what pyproject.toml asks
#   ./scripts/lock.sh --upgrade  the newest versions pyproject.toml admits
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$(command -v .venv/bin/uv || command -v uv)}
build=$(.venv/bin/python -c \
    'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))')
compile() {
    "$UV" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
        --no-emit-index-url --no-header "$@"
}
# dev first: the dev tools pin dagster exactly (dagster-dg-cli), and main takes its versions
echo "$build" | compile pyproject.toml - --extra dev --extra bench -o requirements/dev.txt "$@"
echo "$build" | compile pyproject.toml - -c requirements/dev.txt -o requirements/main.txt "$@"
