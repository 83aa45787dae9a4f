"""The tests leave the user's world alone: run as ``./test.sh`` runs them (DAGSTER_HOME set
to the project's .dagster_home), tests that run the pipeline through Dagster, the CLI and
the published lists add no run to .dagster_home and nothing to data/. (conftest.py checks
the same for the whole suite at its end.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from taobao_pipeline_tests.user_world import PROJECT, user_world

HERE = Path(__file__).parent


def test_tests_add_no_run_to_dagster_home_and_nothing_to_data() -> None:
    before = user_world()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAOBAO_")}
    env["DAGSTER_HOME"] = str(PROJECT / ".dagster_home")  # as ./test.sh exports it
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(HERE / "test_cli.py"),
            str(HERE / "test_official_warehouse.py"),
            str(HERE / "test_operations.py")
            + "::test_single_run_backfill_equals_edition_by_edition",
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert " passed" in out.stdout
    assert user_world() == before
