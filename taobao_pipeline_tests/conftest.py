"""Shared fixtures: boundary editions built once and run through the real pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from taobao_pipeline.runner import run_editions
from taobao_pipeline_tests.extracts import write_edition
from taobao_pipeline_tests.scenarios import boundary_edition

warnings.filterwarnings("ignore", category=UserWarning, module="dagster")


def read_table(warehouse: Path, sql: str) -> list[tuple]:
    """Rows of a query on a warehouse file, opened read-only."""
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session")
def boundary_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Editions 2018-2020 of the boundary scenarios, run in one single-run backfill."""
    root = tmp_path_factory.mktemp("boundary")
    raw = root / "raw"
    for year in (2018, 2019, 2020):
        e = boundary_edition(year)
        write_edition(raw, year, e.villages, e.shops, e.revenue)
    warehouse = root / "warehouse" / "taobao.duckdb"
    run_editions(raw, warehouse, [2018, 2019, 2020])
    return warehouse


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """Editions 2019 and 2020 of the boundary scenarios, as plain CSV."""
    for year in (2019, 2020):
        e = boundary_edition(year)
        write_edition(tmp_path / "raw", year, e.villages, e.shops, e.revenue)
    return tmp_path / "raw"


@dataclass(frozen=True)
class GeneratedRun:
    """A warehouse built by the command line from generated extracts, with a list imported."""

    root: Path
    warehouse: Path
    dagster_home: Path
    run_output: str


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``taobao-pipeline ARGS`` in a process of its own; fails the test on a non-zero exit."""
    out = subprocess.run(
        [sys.executable, "-m", "taobao_pipeline.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="session")
def generated_run(tmp_path_factory: pytest.TempPathFactory) -> GeneratedRun:
    """Generated extracts at scale 0.01 (an unpublished edition, 2012, and published ones),
    run by ``taobao-pipeline run`` with a temporary DAGSTER_HOME, and an official list for
    2016 made from its computed villages (one left out, one added in Beijing) imported."""
    root = tmp_path_factory.mktemp("generated")
    home = root / "dagster_home"
    home.mkdir()
    warehouse = root / "warehouse" / "taobao.duckdb"
    env = {"DAGSTER_HOME": str(home)}
    cli(
        "generate",
        "--out",
        str(root / "raw"),
        "--scale",
        "0.01",
        "--editions",
        "2012,2016,2019-2020",
    )
    run = cli("run", "--raw-dir", str(root / "raw"), "--warehouse", str(warehouse), env=env)
    listed = read_table(
        warehouse,
        "SELECT province_name, prefecture_name, county_name, township_name, village_name "
        "FROM taobao_villages WHERE edition = 2016 ORDER BY village_code",
    )[1:] + [("北京市", "北京市", "朝阳区", "镇B", "村三")]
    lines = ["省,市,县,镇,村"] + [",".join(v or "" for v in row) for row in listed]
    (root / "list-2016.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli(
        "import-list",
        str(root / "list-2016.csv"),
        "--edition",
        "2016",
        "--warehouse",
        str(warehouse),
    )
    return GeneratedRun(root, warehouse, home, run.stdout)
