"""Shared fixtures: boundary editions built once and run through the real pipeline."""

from __future__ import annotations

import warnings
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
