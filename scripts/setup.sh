# Sourced by run.sh, test.sh and ui.sh: .venv with exactly the locked versions, active,
# and DAGSTER_HOME. EXTRAS=dev installs requirements/dev.txt (test tools too), otherwise
# requirements/main.txt. PYTHON=/path/to/python picks the interpreter; otherwise the first
# of python3, python3.14 ... python3.11 that pyproject.toml's requires-python admits.
# A .venv of an unsupported Python, whose last install did not finish, or installed from
# another lock (a stamp holds the SHA-256 of the lock it installed), is rebuilt.

# the supported minor versions, from requires-python = ">=3.A,<3.B"
read -r _min _end < <(sed -nE 's/^requires-python = ">=3\.([0-9]+),<3\.([0-9]+)".*/\1 \2/p' \
    pyproject.toml)
_supported() {  # is "$1" a Python that requires-python admits?
    "$1" -c "import sys; sys.exit(not (3, $_min) <= sys.version_info[:2] < (3, $_end))" \
        2>/dev/null
}
_choose_python() {
    local candidate
    if [ -n "${PYTHON:-}" ]; then
        _supported "$PYTHON" && { echo "$PYTHON"; return; }
        echo "setup: PYTHON=$PYTHON is not a Python 3.$_min to 3.$((_end - 1))." >&2
        return 1
    fi
    for candidate in python3 $(seq -f 'python3.%g' $((_end - 1)) -1 "$_min"); do
        if command -v "$candidate" >/dev/null && _supported "$candidate"; then
            command -v "$candidate"
            return
        fi
    done
    echo "setup: this project needs Python 3.$_min to 3.$((_end - 1)), and none is on" \
        "PATH (python3, python3.$((_end - 1)) ... python3.$_min); install one, or set" \
        "PYTHON=/path/to/python." >&2
    return 1
}

_lock="requirements/${EXTRAS:-main}.txt"
[ "${EXTRAS:-main}" = bench ] && _lock=requirements/dev.txt  # dev.txt holds bench too
_stamp="${_lock##*/}"
_stamp=".venv/.installed-${_stamp%.txt}"
_sum() { sha256sum "$1" | cut -d' ' -f1; }  # by content: a checkout sets any mtime
_why=""
if [ -e .venv ] && ! _supported .venv/bin/python; then
    _why="its Python is not a supported one"
elif [ -e .venv ] && ! ls .venv/.installed-* >/dev/null 2>&1; then
    _why="its last install did not finish"
elif [ -f "$_stamp" ] && [ "$(cat "$_stamp")" != "$(_sum "$_lock")" ]; then
    _why="$_lock changed: only the locked versions, nothing left over"
fi
if [ -n "$_why" ]; then
    echo "setup: rebuilding .venv ($_why)" >&2
    rm -rf .venv
fi
if [ ! -e .venv ]; then
    _python=$(_choose_python) || return 1 2>/dev/null || exit 1
    "$_python" -m venv .venv
fi
if [ ! -f "$_stamp" ] || [ pyproject.toml -nt "$_stamp" ]; then
    # no stamp while installing: an install that fails or is interrupted is rebuilt next
    # time; dev.txt holds main.txt's versions, so installing it stamps main as well
    rm -f .venv/.installed-*
    # exactly the lock (--no-deps: every dependency is in it, pinned and hashed), then the
    # project without build isolation: its build backend (setuptools) is locked too
    _pip=(.venv/bin/pip install -q --disable-pip-version-check)
    if ! { "${_pip[@]}" --require-hashes --no-deps -r "$_lock" && .venv/bin/pip check -q &&
           "${_pip[@]}" --no-deps --no-build-isolation -e .; }; then
        echo "setup: installing $_lock into .venv failed (the next run starts it afresh)" >&2
        return 1 2>/dev/null || exit 1
    fi
    _sum "$_lock" >"$_stamp"
    [ "$_lock" = requirements/main.txt ] || _sum requirements/main.txt >.venv/.installed-main
fi
# .venv active, as dg expects of a project's own virtualenv
export VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH"
export DAGSTER_HOME="$PWD/.dagster_home"
unset _min _end _lock _stamp _python _pip _why
