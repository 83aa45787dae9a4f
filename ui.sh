#!/usr/bin/env bash
# The Dagster UI and daemon (schedules, sensors) on http://127.0.0.1:3000 (PORT=... for
# another port), with run history kept in .dagster_home.
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/setup.sh
# Started in the background by a script (`./ui.sh &`, nohup), a shell hands on SIGINT
# ignored, and Dagster, which takes SIGTERM as it takes SIGINT, would then ignore SIGTERM
# too: the default is restored (bash cannot) before dg dev starts
exec python -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp("dg", ["dg", *sys.argv[1:]])' dev --host 127.0.0.1 --port "${PORT:-3000}"
