"""The ``taobao-pipeline`` command as the tests start it: a process of its own (a helper
module, not a test module)."""

from __future__ import annotations

import subprocess
import sys

# the command, run by this interpreter: the package under test, whatever is on PATH
COMMAND = [sys.executable, "-m", "taobao_pipeline.cli"]


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``taobao-pipeline ARGS``, its output captured (``env``: the whole environment)."""
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=env, timeout=timeout
    )
