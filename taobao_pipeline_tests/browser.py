"""Debian's Chromium as the browser tests drive it with Playwright (a helper module, not a
test module): where it is, how it starts on this closed network, and why it cannot."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# without the background-networking flags, Chromium's connections are refused by the
# closed network, many at a time
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_missing() -> str | None:
    """Why a browser test cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        how = "scripts/install-browser.sh" if shutil.which("apt-get") else "no apt-get"
        return f"{CHROMIUM} is missing ({how})"
    return None
