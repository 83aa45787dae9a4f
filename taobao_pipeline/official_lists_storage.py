"""The published lists in the warehouse: ``official_villages`` and ``official_towns``.

:func:`write_official_list` replaces one edition's rows with a list as
``official_lists.read_official_list`` read it. Tables are named as the connection
resolves them (its current catalog and schema): the warehouse writes with ``USE wh``.
The lists are compared with the computed villages by
``reconciliation.write_official_reconciliation``.
"""

from __future__ import annotations

import duckdb
import polars as pl

from taobao_pipeline.official_lists import OfficialList
from taobao_pipeline.tables import TABLES, ensure_tables

#: the tables that hold the published lists
OFFICIAL_LIST_TABLES = ("official_villages", "official_towns")


def ensure_official_list_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the tables of the published lists in the current catalog where missing (and
    add the columns a file of an older version lacks), as ``tables.py`` declares them."""
    [(catalog,)] = conn.execute("SELECT current_database()").fetchall()
    ensure_tables(conn, [TABLES[t] for t in OFFICIAL_LIST_TABLES], catalog)


def _replace_edition(
    conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, edition: int
) -> None:
    """Replace ``edition``'s rows of ``table`` with ``frame`` (delete, insert)."""
    view = f"_incoming_{table}"
    names = TABLES[table].names[1:]  # all but the edition
    conn.execute(f"DELETE FROM {table} WHERE edition = ?", [edition])
    conn.register(view, frame.select(names).to_arrow())
    try:
        conn.execute(
            f"INSERT INTO {table} (edition, {', '.join(names)}) "
            f"SELECT CAST(? AS INTEGER), {', '.join(names)} FROM {view}",
            [edition],
        )
    finally:
        conn.unregister(view)


def write_official_list(conn: duckdb.DuckDBPyConnection, lst: OfficialList, edition: int) -> None:
    """Store one edition's list in ``official_villages`` and ``official_towns``.

    Creates the tables if missing and replaces the rows of ``edition`` (delete, insert);
    the caller owns the transaction.
    """
    for frame in (lst.villages, lst.towns):
        others = set(frame["edition"].unique().to_list()) - {edition}
        if others:
            raise ValueError(f"list holds editions {sorted(others)}, not only {edition}")
    ensure_official_list_tables(conn)
    _replace_edition(conn, "official_villages", lst.villages, edition)
    _replace_edition(conn, "official_towns", lst.towns, edition)
