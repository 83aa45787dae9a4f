"""The ``taobao-pipeline`` command as a user runs it: a real process, real files."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from taobao_pipeline.cli import parse_editions
from taobao_pipeline_tests.extracts import write_edition
from taobao_pipeline_tests.scenarios import TAOBAO_VILLAGES, boundary_edition


@pytest.fixture(autouse=True)
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Command-line runs record into a temporary instance, never the project's."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "taobao_pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_parse_editions() -> None:
    assert parse_editions("2019,2020") == [2019, 2020]
    assert parse_editions("2014-2016,2020") == [2014, 2015, 2016, 2020]


def test_run_prints_national_summary_and_query_reads(tmp_path: Path) -> None:
    for year in (2019, 2020):
        e = boundary_edition(year)
        write_edition(tmp_path / "raw", year, e.villages, e.shops, e.revenue)
    warehouse = str(tmp_path / "wh.duckdb")
    run = cli(
        "run", "--raw-dir", str(tmp_path / "raw"), "--warehouse", warehouse, "--editions", "2020"
    )
    assert run.returncode == 0, run.stderr
    assert "Ran edition 2020 in" in run.stdout
    assert f"Latest edition, 2020: {len(TAOBAO_VILLAGES)} Taobao villages" in run.stdout
    assert "2019" not in run.stdout
    query = cli("query", "SELECT count(*) AS n FROM taobao_villages", "--warehouse", warehouse)
    assert query.returncode == 0, query.stderr
    assert str(len(TAOBAO_VILLAGES)) in query.stdout
    # the warehouse is read-only to queries
    write = cli("query", "DELETE FROM taobao_villages", "--warehouse", warehouse)
    assert write.returncode == 1 and "read-only" in write.stderr.lower()


def test_run_fails_with_the_file_and_problem(tmp_path: Path) -> None:
    e = boundary_edition(2020)
    folder = write_edition(tmp_path / "raw", 2020, e.villages, e.shops, e.revenue)
    (folder / "shops.csv").unlink()
    run = cli("run", "--raw-dir", str(tmp_path / "raw"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert run.returncode == 1
    assert "shops.{parquet,csv,csv.gz}: file is missing" in run.stderr


def test_run_that_fails_says_which_step_of_which_editions(tmp_path: Path) -> None:
    for year in (2019, 2020):
        e = boundary_edition(year)
        folder = write_edition(tmp_path / "raw", year, e.villages, e.shops, e.revenue)
    (folder / "shops.csv").unlink()  # 2020's
    run = cli("run", "--raw-dir", str(tmp_path / "raw"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert run.returncode == 1
    lines = run.stderr.splitlines()
    assert "editions 2019-2020: the run failed; each edition again, in a run of its own" in (
        run.stderr
    )
    step = r" +\d+:\d\d  step +"
    assert any(re.match(rf"{step}ingest_extracts +2019-2020 +FAILED in", x) for x in lines)
    assert any(re.match(rf"{step}designate_and_publish +2019 +done in", x) for x in lines)
    assert any(re.match(rf"{step}ingest_extracts +2020 +FAILED in", x) for x in lines)


def test_run_without_editions_says_so(tmp_path: Path) -> None:
    run = cli("run", "--raw-dir", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"))
    assert run.returncode == 2 and "no edition folders" in run.stderr
