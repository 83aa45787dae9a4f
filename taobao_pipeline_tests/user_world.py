"""The user's world, which no test may change (a helper module, not a test module): the
project's run history (.dagster_home) and data (data/)."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
USER_WORLD = (PROJECT / ".dagster_home", PROJECT / "data")


def user_world() -> dict[str, tuple[int, int]]:
    """Every file of the user's run history and data: size and modification time."""
    files = {}
    for root in USER_WORLD:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                files[str(path.relative_to(PROJECT))] = (stat.st_size, stat.st_mtime_ns)
    return files
