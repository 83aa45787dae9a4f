"""The Dagster 1.13 commands of test.sh and ui.sh (`dg check defs`, `dg dev`), configured
by [tool.dg]: they work here and print no warning (no supersession, no telemetry notice)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from taobao_pipeline.cli import INSTANCE_CONFIG
from taobao_pipeline_tests.services import VENV_BIN, free_port, stop, wait_until_serving

# the project: the folder of pyproject.toml above this file
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment ui.sh and test.sh give dg (.venv active), with a temporary home."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_CONFIG)
    return os.environ | {
        "DAGSTER_HOME": str(home),
        "VIRTUAL_ENV": str(VENV_BIN.parent),
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "NO_COLOR": "1",
    }


def test_dg_check_defs_loads_the_definitions_without_warnings(tmp_path: Path) -> None:
    run = subprocess.run(
        [str(VENV_BIN / "dg"), "check", "defs"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "All definitions loaded successfully" in run.stdout + run.stderr
    assert "warning" not in (run.stdout + run.stderr).lower()


def test_dg_dev_serves_the_ui_without_warnings(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "dg-dev.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(VENV_BIN / "dg"), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=_env(tmp_path), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: webserver, daemon, code server
        )  # fmt: skip
    try:
        wait_until_serving(port, server, log)
        output = log.read_text()  # what the person sees while the UI serves
    finally:
        stop(server)  # Ctrl-C: dg dev then stops its webserver, daemon and code server
    assert "Serving dagster-webserver" in output
    assert "warning" not in output.lower(), output
