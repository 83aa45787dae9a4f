"""Reading a warehouse file in the tests (a helper module, not a test module)."""

from __future__ import annotations

from pathlib import Path

import duckdb


def read_table(warehouse: Path, sql: str) -> list[tuple]:
    """Rows of a query on a warehouse file, opened read-only."""
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
