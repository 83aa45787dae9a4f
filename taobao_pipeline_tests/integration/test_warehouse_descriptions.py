"""The published warehouse follows the table declarations, and every table and column
carries its description where the DuckDB 1.x command-line client reads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from taobao_pipeline.provinces import PROVINCES
from taobao_pipeline.tables import PUBLISHED_TABLES, TABLES
from taobao_pipeline.warehouse import STORAGE_NUMBER, storage_number

CLI = Path(sys.executable).with_name("duckdb")


def test_warehouse_matches_declarations_and_keeps_comments_for_1x(boundary_run: Path) -> None:
    """Columns and types as declared, each described, readable by the 1.x CLI."""
    assert storage_number(boundary_run) == STORAGE_NUMBER
    conn = duckdb.connect(str(boundary_run), read_only=True)
    try:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
            "WHERE schema_name = 'main' AND database_name = current_database() "
            "ORDER BY table_name, column_index"
        ).fetchall()
        regions = dict(conn.execute("SELECT province_code, region FROM provinces").fetchall())
    finally:
        conn.close()
    found: dict[str, list[tuple[str, str, bool]]] = {}
    for table, column, sql_type, nullable in columns:
        found.setdefault(table, []).append((column, sql_type, nullable))
    assert set(found) == set(PUBLISHED_TABLES)
    for name, table in PUBLISHED_TABLES.items():
        declared = [(c.name, c.type, c.nullable) for c in table.columns]
        assert found[name] == declared, name
    assert regions == {p.code: p.region for p in PROVINCES}
    # the 1.x command-line client: every table and column carries its comment (the CLI
    # lists its own system views under schema main too: those are not the warehouse's)
    missing = subprocess.run(
        [
            str(CLI),
            "-readonly",
            "-csv",
            str(boundary_run),
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE comment IS NULL AND schema_name = 'main' AND database_name = current_database() "
            "UNION ALL SELECT table_name, NULL FROM duckdb_tables() "
            "WHERE comment IS NULL AND schema_name = 'main' AND database_name = current_database()",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert missing == ["table_name,column_name"]
    version = subprocess.run([str(CLI), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("v1.")
    described = subprocess.run(
        [
            str(CLI),
            "-readonly",
            "-csv",
            "-noheader",
            str(boundary_run),
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'national_summary' "
            "AND column_name = 'revenue_rmb'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert described == TABLES["national_summary"].column("revenue_rmb").description
