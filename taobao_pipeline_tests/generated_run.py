"""A warehouse built by the command line from generated extracts (a helper module, not a
test module): the report's and the release's tests read it."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from taobao_pipeline_tests import command
from taobao_pipeline_tests.warehouse_queries import read_table


@dataclass(frozen=True)
class GeneratedRun:
    """The warehouse, the DAGSTER_HOME the run recorded in and what ``run`` printed."""

    root: Path
    warehouse: Path
    dagster_home: Path
    run_output: str


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``taobao-pipeline ARGS`` in a process of its own; fails the test on a non-zero exit."""
    out = command.cli(*args, env={**os.environ, **(env or {})}, timeout=600)
    assert out.returncode == 0, out.stderr
    return out


def generated_run(root: Path) -> GeneratedRun:
    """Generated extracts at scale 0.01 (an unpublished edition, 2012, and published ones),
    run by ``taobao-pipeline run`` with a DAGSTER_HOME of its own, and an official list for
    2016 made from its computed villages (one left out, one added in Beijing) imported."""
    home = root / "dagster_home"
    home.mkdir()
    warehouse = root / "warehouse" / "taobao.duckdb"
    raw = str(root / "raw")
    cli("generate", "--out", raw, "--scale", "0.01", "--editions", "2012,2016,2019-2020")
    run = cli(
        "run", "--raw-dir", raw, "--warehouse", str(warehouse), env={"DAGSTER_HOME": str(home)}
    )
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
