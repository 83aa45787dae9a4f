#!/usr/bin/env bash
# What the report's browser test needs on a fresh machine (CI starts from a clean clone as
# root): Debian's chromium and the Noto CJK fonts that draw Chinese names. Quiet, and only
# when chromium is missing; without apt-get (or root) it does nothing and the browser test
# skips, saying why.
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
    exit 0
fi
if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
    echo "install-browser: no apt-get or not root; the report's browser test will skip" >&2
    exit 0
fi
# other installers on the machine hold dpkg's lock for a while: wait for it
apt=(apt-get -qq -o DPkg::Lock::Timeout=600)
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${apt[@]}" update && "${apt[@]}" install --no-install-recommends chromium fonts-noto-cjk; } \
        >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
fi
