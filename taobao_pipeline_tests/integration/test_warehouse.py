"""Reloads replace, failures leave the warehouse as it was, and 1.x clients can open it."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

import taobao_pipeline.warehouse as wh_module
from taobao_pipeline.runner import RunFailed, run_editions
from taobao_pipeline.tables import EDITION_TABLES, TABLES
from taobao_pipeline_tests.prerequisites import require
from taobao_pipeline_tests.warehouse_queries import read_table


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    return {t: read_table(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in EDITION_TABLES}


def test_reloading_an_edition_twice_gives_identical_tables(raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh" / "taobao.duckdb"
    run_editions(raw, warehouse, [2019, 2020])
    first = snapshot(warehouse)
    run_editions(raw, warehouse, [2020])
    run_editions(raw, warehouse, [2020])
    assert snapshot(warehouse) == first
    assert read_table(warehouse, "SELECT count(DISTINCT edition) FROM village_metrics") == [(2,)]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.write_bytes(b"\x00garbage\xff" * 50), "revenue.parquet: unreadable Parquet"),
        (lambda f: f.unlink(), "revenue*.{parquet,csv,csv.gz}: file is missing"),
        (
            lambda f: f.with_suffix(".csv").write_bytes(gzip.compress(b"x")) or f.unlink(),
            "revenue.csv: ",
        ),
    ],
    ids=["corrupt", "missing", "not-a-csv"],
)
def test_failed_reload_leaves_previous_tables(
    raw: Path, tmp_path: Path, damage, message: str
) -> None:
    warehouse = tmp_path / "wh" / "taobao.duckdb"
    # revenue as Parquet so that it can be corrupted
    csv = raw / "2020" / "revenue.csv"
    pl.read_csv(csv, infer_schema=False).write_parquet(raw / "2020" / "revenue.parquet")
    csv.unlink()
    run_editions(raw, warehouse, [2019, 2020])
    before = snapshot(warehouse)
    damage(raw / "2020" / "revenue.parquet")
    with pytest.raises(RunFailed) as failure:
        run_editions(raw, warehouse, [2020])
    assert message in str(failure.value)
    assert snapshot(warehouse) == before


def test_a_bad_file_fails_only_its_own_edition(raw: Path, tmp_path: Path) -> None:
    """Run together, 2019 is published although 2020's revenue lacks a column: 2020
    stays as it was, and the error names its file."""
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(raw, warehouse, [2020])
    before = read_table(warehouse, "SELECT * FROM village_metrics ORDER BY ALL")
    revenue = raw / "2020" / "revenue.csv"
    revenue.write_text(revenue.read_text().replace("gmv_rmb", "gmv"))
    with pytest.raises(RunFailed, match=r"revenue.csv: required column\(s\) absent: gmv_rmb"):
        run_editions(raw, warehouse, [2019, 2020])
    editions = "SELECT DISTINCT edition FROM national_summary ORDER BY 1"
    assert read_table(warehouse, editions) == [(2019,), (2020,)]
    after = "SELECT * FROM village_metrics WHERE edition = 2020 ORDER BY ALL"
    assert read_table(warehouse, after) == before


def test_missing_column_and_undecodable_file_name_the_file(raw: Path, tmp_path: Path) -> None:
    villages = raw / "2020" / "villages.csv"
    villages.write_text(villages.read_text().replace("households", "hh"))
    with pytest.raises(RunFailed, match=r"villages.csv: required column\(s\) absent: households"):
        run_editions(raw, tmp_path / "a.duckdb", [2020])
    villages.write_bytes(b"village_code,\xff\xfe\x81\n")
    with pytest.raises(RunFailed, match="villages.csv: cannot be decoded as UTF-8 or GB18030"):
        run_editions(raw, tmp_path / "a.duckdb", [2020])
    assert not (tmp_path / "a.duckdb").exists()


def _duckdb_cli() -> str | None:
    beside = Path(sys.executable).with_name("duckdb")
    return str(beside) if beside.exists() else shutil.which("duckdb")


def test_duckdb_1x_cli_opens_the_warehouse(raw: Path, tmp_path: Path) -> None:
    cli = _duckdb_cli()
    require(cli is not None, "the DuckDB CLI (duckdb-cli, in the dev lock) is not installed")
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1."), version.stdout
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(raw, warehouse, [2019, 2020])
    run_editions(raw, warehouse, [2020])  # a republished file too
    out = subprocess.run(
        [
            cli,
            "-readonly",
            "-csv",
            str(warehouse),
            "-c",
            "SELECT edition, taobao_villages, revenue_rmb FROM national_summary ORDER BY 1",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = read_table(
        warehouse, "SELECT edition, taobao_villages, revenue_rmb FROM national_summary ORDER BY 1"
    )
    lines = out.stdout.strip().splitlines()[1:]
    assert lines == [f"{e},{n},{r}" for e, n, r in expected]


def test_every_1x_client_reads_the_format_and_an_earlier_file_is_rebuilt(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse has DuckDB 1.0's storage format (64), which every 1.x client reads.
    A file written in 1.4's format (67), as before, is rebuilt on the next publish with
    its other editions intact."""
    warehouse = tmp_path / "taobao.duckdb"
    monkeypatch.setattr(wh_module, "STORAGE_VERSION", "v1.4.0")
    monkeypatch.setattr(wh_module, "STORAGE_NUMBER", 67)
    run_editions(raw, warehouse, [2019, 2020])
    assert wh_module.storage_number(warehouse) == 67
    before = snapshot(warehouse)
    monkeypatch.undo()
    run_editions(raw, warehouse, [2020])
    assert wh_module.storage_number(warehouse) == 64
    assert snapshot(warehouse) == before


READER = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
print(conn.execute("SELECT count(*) FROM village_metrics").fetchall()[0][0], flush=True)
sys.stdin.readline()  # hold the session open until told
print(conn.execute("SELECT count(*) FROM village_metrics").fetchall()[0][0], flush=True)
"""


def test_open_reader_session_and_a_run_do_not_collide(raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(raw, warehouse, [2019])
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = reader.stdout.readline().strip()
        started = time.monotonic()
        run_editions(raw, warehouse, [2019, 2020])  # publishes while the session is open
        assert time.monotonic() - started < 120
        second, _ = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0
    assert first == second.strip()  # the open session keeps its snapshot
    assert read_table(warehouse, "SELECT count(DISTINCT edition) FROM village_metrics") == [(2,)]


def test_a_warehouse_from_an_older_version_gains_new_columns(raw: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(raw, warehouse, [2019])
    conn = duckdb.connect(str(warehouse))
    conn.execute("ALTER TABLE province_summary DROP COLUMN region")
    # the reconciliation of an older version: made by CREATE TABLE AS, with stand-ins
    conn.execute("DROP TABLE reconciliation")
    conn.execute(
        "CREATE TABLE reconciliation AS SELECT 2010 AS edition, 'taobao_villages' AS measure, "
        "true AS interpolated"
    )
    conn.close()
    run_editions(raw, warehouse, [2020])
    regions = read_table(warehouse, "SELECT DISTINCT edition, region FROM province_summary")
    assert sorted(regions, key=str) == [(2019, None), (2020, "East"), (2020, "West")]
    columns = read_table(
        warehouse,
        "SELECT column_name, comment IS NOT NULL FROM duckdb_columns() "
        "WHERE table_name = 'reconciliation' ORDER BY column_index",
    )
    assert columns == [(c.name, True) for c in TABLES["reconciliation"].columns]
    assert read_table(warehouse, "SELECT count(*) FROM reconciliation WHERE edition = 2010") == [
        (0,)
    ]
