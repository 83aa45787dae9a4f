#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests of the production instance (deploy/dagster.yaml):
# a cluster of its own in a temporary folder, listening on 127.0.0.1 only, on a free port.
#   eval "$(scripts/postgres.sh)"          start one; prints the export lines to eval:
#                                          DAGSTER_PG_HOST/PORT/USER/PASSWORD/DB, and
#                                          TAOBAO_PG_DIR, the folder to stop
#   eval "$(scripts/postgres.sh start DIR)"  the same for the cluster in DIR (started
#                                          again if it is down; made if DIR is empty)
#   scripts/postgres.sh stop DIR           stop it and delete DIR (nothing if it is gone)
# Debian's postgresql is installed with apt-get when no initdb is found (as root, quietly).
# PostgreSQL refuses to run as root: as root, the cluster belongs to the user postgres
# (made by Debian's package), else nobody.
set -euo pipefail
say() { echo "postgres.sh: $*" >&2; }

bin_dir() {  # the folder of initdb and pg_ctl: Debian's newest, else those on PATH
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
    done
    command -v pg_ctl >/dev/null && command -v initdb >/dev/null &&
        dirname "$(command -v pg_ctl)"
}

install_postgres() {
    if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
        say "no PostgreSQL (initdb) here, and no apt-get as root to install it"
        exit 1
    fi
    # other installers on the machine hold dpkg's lock for a while: wait for it
    local apt=(apt-get -qq -o DPkg::Lock::Timeout=600) log
    log=$(mktemp)
    if ! { "${apt[@]}" update && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install \
            --no-install-recommends postgresql; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        exit 1
    fi
    rm -f "$log"
}

as_owner() {  # run "$@" as the cluster's owner
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$owner" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir=${1:-} bin port password
    bin=$(bin_dir) || true
    if [ -z "$bin" ]; then
        install_postgres
        bin=$(bin_dir) || { say "installed postgresql, yet found no initdb"; exit 1; }
    fi
    owner=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        owner=nobody
        id postgres >/dev/null 2>&1 && owner=postgres
    fi
    if [ -z "$dir" ]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/taobao-postgres.XXXXXX")
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ ! -f "$dir/env" ]; then  # a new cluster: superuser taobao, database dagster
        password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
        port=$(free_port)
        mkdir -p "$dir/socket"
        printf '%s\n' "$password" >"$dir/password"
        chmod 700 "$dir"
        [ "$owner" = "$(id -un)" ] || chown -R "$owner" "$dir"
        # password over TCP; the socket (in $dir, only the owner's) trusts its owner
        as_owner "$bin/initdb" -D "$dir/data" -U taobao --pwfile="$dir/password" \
            --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --no-locale >/dev/null
        rm -f "$dir/password"
        cat >"$dir/env" <<EOF
export DAGSTER_PG_HOST=127.0.0.1
export DAGSTER_PG_PORT=$port
export DAGSTER_PG_USER=taobao
export DAGSTER_PG_PASSWORD=$password
export DAGSTER_PG_DB=dagster
export TAOBAO_PG_DIR=$dir
EOF
        chmod 600 "$dir/env"
    fi
    port=$(sed -n 's/^export DAGSTER_PG_PORT=//p' "$dir/env")
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 -o \
            "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket" start >/dev/null ||
            { tail -n 20 "$dir/data/server.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/psql" -h "$dir/socket" -p "$port" -U taobao -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = 'dagster'" | grep -q 1; then
        as_owner "$bin/createdb" -h "$dir/socket" -p "$port" -U taobao dagster
    fi
    say "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port," \
        "database dagster; stop it with: scripts/postgres.sh stop $dir"
    cat "$dir/env"
}

stop() {
    local dir=${1:?usage: scripts/postgres.sh stop DIR} bin
    [ -d "$dir" ] || return 0
    if [ ! -f "$dir/env" ] || [ ! -d "$dir/data" ]; then
        say "$dir is not a cluster of postgres.sh; left alone"
        exit 1
    fi
    bin=$(bin_dir)
    owner=$(stat -c %U "$dir/data")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}

case "${1:-start}" in
    start) start "${2:-}" ;;
    stop) stop "${2:-}" ;;
    *) say "usage: scripts/postgres.sh [start [DIR] | stop DIR]"; exit 2 ;;
esac
