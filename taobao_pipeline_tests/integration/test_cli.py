"""The ``taobao-pipeline`` command as a user runs it: a real process, real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from taobao_pipeline.cli import parse_editions
from taobao_pipeline_tests.extracts import write_edition
from taobao_pipeline_tests.scenarios import TAOBAO_VILLAGES, boundary_edition


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
    assert "National summary" in run.stdout and "2020" in run.stdout
    assert "2019" not in run.stdout.split("National summary")[1]
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


def test_run_without_editions_says_so(tmp_path: Path) -> None:
    run = cli("run", "--raw-dir", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"))
    assert run.returncode == 2 and "no edition folders" in run.stderr
