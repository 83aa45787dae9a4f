"""The code's version for what it writes: the package version and, in a git checkout,
the commit (with ``+dirty`` when files differ from it)."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path


@functools.cache
def code_version() -> dict[str, object]:
    """package, git_commit (None outside a checkout), git_dirty, and both as text."""
    try:
        package = metadata.version("taobao-pipeline")
    except metadata.PackageNotFoundError:
        package = "unknown"
    commit, dirty = None, False
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        pass  # not a checkout (an installed package) or no git: the package version only
    text = package + (f" ({commit[:12]}{'+dirty' if dirty else ''})" if commit else "")
    return {"package": package, "git_commit": commit, "git_dirty": dirty, "text": text}
