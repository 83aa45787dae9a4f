# Sourced by run.sh, test.sh and ui.sh: a virtualenv with the project and DAGSTER_HOME.
# EXTRAS=dev installs the test tools too.
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/pip install -q --upgrade pip
fi
stamp=".venv/.installed-${EXTRAS:-main}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
    touch "$stamp"
fi
export DAGSTER_HOME="$PWD/.dagster_home"
