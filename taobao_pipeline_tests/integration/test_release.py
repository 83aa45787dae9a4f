"""The data release: every file reads back to the warehouse's rows, the manifest holds."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from taobao_pipeline.tables import PUBLISHED_TABLES
from taobao_pipeline_tests.generated_run import GeneratedRun, cli
from taobao_pipeline_tests.warehouse_queries import read_table

MONEY_COLUMNS = {"revenue_rmb", "all_revenue_rmb"}


@pytest.fixture(scope="module")
def release(generated_run: GeneratedRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "release"
    cli("export", "--warehouse", str(generated_run.warehouse), "--out", str(out))
    return out


def _tables(warehouse: Path) -> dict[str, list[tuple[str, str]]]:
    """table -> (column, type) of every table of the warehouse."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, sql_type in read_table(
        warehouse,
        "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c "
        "JOIN duckdb_tables() t USING (database_name, schema_name, table_name) "
        "WHERE c.schema_name = 'main' ORDER BY c.table_name, c.column_index",
    ):
        tables.setdefault(table, []).append((column, sql_type))
    return tables


def _differences(conn: duckdb.DuckDBPyConnection, table: str, source: str) -> int:
    """Rows of the warehouse table missing from ``source`` plus rows only in it."""
    sql = (
        f"SELECT (SELECT count(*) FROM (FROM wh.{table} EXCEPT ALL FROM {source})) "
        f"+ (SELECT count(*) FROM (FROM {source} EXCEPT ALL FROM wh.{table}))"
    )
    return conn.execute(sql).fetchall()[0][0]


def test_every_file_reads_back_to_the_warehouse_rows(
    release: Path, generated_run: GeneratedRun
) -> None:
    tables = _tables(generated_run.warehouse)
    assert set(PUBLISHED_TABLES) == set(tables)
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{generated_run.warehouse}' AS wh (READ_ONLY)")
    try:
        for table, columns in tables.items():
            parquet = f"read_parquet('{release / 'parquet' / f'{table}.parquet'}')"
            described = conn.execute(f"DESCRIBE SELECT * FROM {parquet}").fetchall()
            assert [d[:2] for d in described] == columns, (
                table
            )  # names, order and types, DECIMAL too
            assert _differences(conn, table, parquet) == 0, table

            csv_path = release / "csv" / f"{table}.csv"
            assert csv_path.read_bytes()[:3] == b"\xef\xbb\xbf", table
            spec = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns) + "}"
            # NULL is an empty field, empty text a quoted "" (DuckDB reads both as NULL unless told)
            csv = (
                f"read_csv('{csv_path}', header = true, columns = {spec}, "
                "allow_quoted_nulls = false)"
            )
            assert _differences(conn, table, csv) == 0, table
            count = conn.execute(f"SELECT count(*) FROM wh.{table}").fetchall()[0][0]
            assert conn.execute(f"SELECT count(*) FROM {csv}").fetchall()[0][0] == count
    finally:
        conn.close()


def test_money_is_decimal_in_parquet_and_exact_text_in_csv(
    release: Path, generated_run: GeneratedRun
) -> None:
    schema = pq.read_schema(release / "parquet" / "national_summary.parquet")
    for column in MONEY_COLUMNS:
        assert str(schema.field(column).type) == "decimal128(18, 2)"
    [(exact,)] = read_table(
        generated_run.warehouse,
        "SELECT list(revenue_rmb::VARCHAR ORDER BY edition) FROM national_summary",
    )
    header, *rows = (
        (release / "csv" / "national_summary.csv").read_text(encoding="utf-8-sig").splitlines()
    )
    position = header.split(",").index('"revenue_rmb"')
    assert [r.split(",")[position] for r in rows] == exact  # e.g. 9953917050.46, unrounded


def test_parquet_files_carry_the_warehouse_descriptions(
    release: Path, generated_run: GeneratedRun
) -> None:
    comments = {
        (t, c): comment
        for t, c, comment in read_table(
            generated_run.warehouse,
            "SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'main'",
        )
    }
    tables = dict(
        read_table(
            generated_run.warehouse,
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'",
        )
    )
    for table in PUBLISHED_TABLES:
        schema = pq.read_schema(release / "parquet" / f"{table}.parquet")
        described = json.loads(schema.metadata[b"column_descriptions"])
        assert schema.metadata[b"table"].decode() == table
        assert tables[table] and schema.metadata[b"description"].decode() == tables[table]
        for name in schema.names:
            comment = comments[(table, name)]
            assert comment, f"{table}.{name} has no comment in the warehouse"
            assert schema.field(name).metadata[b"description"].decode() == comment
            assert described[name] == comment


def test_the_manifest_lists_every_file_with_its_hash(
    release: Path, generated_run: GeneratedRun
) -> None:
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    files = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}
    assert {f["path"] for f in manifest["files"]} == files - {"manifest.json"}
    for entry in manifest["files"]:
        data = (release / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert len(data) == entry["bytes"]
    counts = dict(
        read_table(
            generated_run.warehouse,
            "SELECT 'national_summary', count(*) FROM national_summary "
            "UNION ALL SELECT 'village_metrics', count(*) FROM village_metrics "
            "UNION ALL SELECT 'official_villages', count(*) FROM official_villages",
        )
    )
    for table, rows in counts.items():
        assert manifest["tables"][table]["rows"] == rows
    assert manifest["editions"] == [2012, 2016, 2019, 2020]
    assert manifest["rules"]["editions"]["2020"]["min_revenue_rmb"] == "10000000.00"
    assert manifest["code_version"]["package"]
    assert dt.datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    dictionary = (release / "data-dictionary.csv").read_text(encoding="utf-8-sig")
    assert '"village_metrics","' in dictionary and '"revenue_rmb","DECIMAL(18,2)"' in dictionary


def test_export_refuses_a_folder_that_holds_something_else(
    generated_run: GeneratedRun, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    from taobao_pipeline.release import ReleaseError, export_release

    with pytest.raises(ReleaseError, match="holds no release"):
        export_release(generated_run.warehouse, out)
    assert (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no partial release left
