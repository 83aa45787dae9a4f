"""Shared fixtures: the user's world left alone, and boundary editions run once.

Tests are in ``unit/`` (fast: SQL on a tiny staging, schemas, list parsing) and
``integration/`` (Dagster runs, the CLI, the webserver, the generator). Helpers used by
tests are plain modules of this package, never test modules: ``extracts`` (writing raw
extracts), ``scenarios`` (the boundary editions), ``bad_rows`` (the rejection scenario),
``warehouse_queries`` (reading a warehouse), ``user_world`` (the files tests must not
change), ``generated_run`` (a warehouse from generated extracts), ``command`` (the command
in a process of its own).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from taobao_pipeline.cli import INSTANCE_CONFIG
from taobao_pipeline.defs.resources import QualityResource
from taobao_pipeline.runner import run_editions
from taobao_pipeline_tests.bad_rows import REVENUE_1, REVENUE_2, SHOPS, VILLAGES, YEAR
from taobao_pipeline_tests.generated_run import GeneratedRun
from taobao_pipeline_tests.generated_run import generated_run as build_generated_run
from taobao_pipeline_tests.raw_files import (
    REVENUE_COLUMNS,
    SHOP_COLUMNS,
    VILLAGE_COLUMNS,
    write_csv,
    write_edition,
)
from taobao_pipeline_tests.scenarios import boundary_edition
from taobao_pipeline_tests.user_world import user_world

warnings.filterwarnings("ignore", category=UserWarning, module="dagster")


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[WORLD] = user_world()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite fails if it changed the user's .dagster_home or data/ in any way."""
    before, after = session.config.stash[WORLD], user_world()
    if before != after:
        changed = sorted(set(before.items()) ^ set(after.items()))
        session.config.get_terminal_writer().line(
            f"the tests changed the user's .dagster_home or data/: {changed[:10]}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


WORLD = pytest.StashKey[dict[str, tuple[int, int]]]()


@pytest.fixture(scope="session", autouse=True)
def isolated_from_the_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test, and every process it starts, runs with a temporary DAGSTER_HOME and
    temporary default paths: ``./test.sh`` exports the project's DAGSTER_HOME, and a run
    recorded there would show in the user's UI as their own."""
    home = tmp_path_factory.mktemp("dagster_home")
    # as the command writes it: telemetry off (without it Dagster writes an instance id)
    (home / "dagster.yaml").write_text(INSTANCE_CONFIG)
    data = tmp_path_factory.mktemp("data")
    names = ("DAGSTER_HOME", "TAOBAO_RAW_DIR", "TAOBAO_WAREHOUSE", "XDG_CACHE_HOME")
    saved = {k: os.environ.get(k) for k in names}
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))  # the report's runtime
    os.environ["TAOBAO_RAW_DIR"] = str(data / "raw")
    os.environ["TAOBAO_WAREHOUSE"] = str(data / "warehouse" / "taobao.duckdb")
    try:
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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


@pytest.fixture(scope="session")
def rejected_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rejection scenario (``bad_rows``) run through the pipeline."""
    folder = tmp_path_factory.mktemp("rejections") / "raw" / str(YEAR)
    write_csv(folder / "villages.csv", VILLAGES, VILLAGE_COLUMNS)
    write_csv(folder / "shops.csv", SHOPS, SHOP_COLUMNS)
    write_csv(folder / "revenue-1.csv", REVENUE_1, REVENUE_COLUMNS)
    write_csv(folder / "revenue-2.csv", REVENUE_2, REVENUE_COLUMNS)
    warehouse = folder.parents[1] / "taobao.duckdb"
    # most of its sales rows are broken on purpose: published over the quality gate
    quality = QualityResource(publish_anyway="the rejection scenario: rows broken on purpose")
    run_editions(folder.parent, warehouse, [YEAR], quality=quality)
    return warehouse


@pytest.fixture(scope="session")
def generated_run(tmp_path_factory: pytest.TempPathFactory) -> GeneratedRun:
    """Generated extracts at scale 0.01 run by the command line (``generated_run``)."""
    return build_generated_run(tmp_path_factory.mktemp("generated"))
