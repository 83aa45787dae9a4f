"""The computed figures beside what AliResearch published: the record and the lists.

``reconciliation`` in the warehouse has one row per edition and published measure of the
record (AliResearch, via the press): published value, computed value, difference and
whether it is within tolerance (counts exact, money and shops within 1%, the share of
villages in clusters within one point). Only published figures are reconciled: the record
(``published_record.py``) holds no stand-in. A county's or prefecture's figure is matched
by its statistical code (the record's ``key``), names repeating across China.

``official_reconciliation`` has one row per edition with a published list
(``official_villages``) and province: the villages listed beside the Taobao villages
computed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import duckdb
import polars as pl

from taobao_pipeline.provinces import write_provinces
from taobao_pipeline.published_record import published_table
from taobao_pipeline.sql import load
from taobao_pipeline.tables import TABLES, ensure_tables

# The tables the computed side reads (the asset's upstream, with the published record).
INPUTS = ("national_summary", "province_summary", "county_summary", "provinces")
# The computed side of each measure's key, per edition, from the schema-qualified tables
# ``{s}``: shares in percent, as published.
COMPUTED = """
SELECT edition, 'taobao_villages' AS key, taobao_villages::DECIMAL(38,2) AS computed
FROM {s}.national_summary
UNION ALL SELECT edition, 'taobao_towns', taobao_towns FROM {s}.national_summary
UNION ALL SELECT edition, 'revenue_rmb', revenue_rmb FROM {s}.national_summary
UNION ALL SELECT edition, 'active_shops', active_shops FROM {s}.national_summary
UNION ALL SELECT edition, 'revenue_rmb_villages_and_towns', revenue_rmb_villages_and_towns
FROM {s}.national_summary
UNION ALL SELECT edition, 'clusters', clusters FROM {s}.national_summary
UNION ALL SELECT edition, 'large_clusters', large_clusters FROM {s}.national_summary
UNION ALL SELECT edition, 'super_large_clusters', super_large_clusters FROM {s}.national_summary
UNION ALL SELECT edition, 'share_in_clusters', round(share_in_clusters * 100, 2)
FROM {s}.national_summary
UNION ALL SELECT p.edition, 'province:' || c.province_name, p.taobao_villages
FROM {s}.province_summary p JOIN {s}.provinces c USING (province_code)
UNION ALL SELECT edition, 'county:' || county_code, taobao_villages FROM {s}.county_summary
UNION ALL SELECT edition, 'prefecture:' || prefecture_code, sum(taobao_villages)
FROM {s}.county_summary GROUP BY ALL
"""

RECONCILED = """
WITH computed AS ({computed})
SELECT p.edition, p.measure,
       p.value::DECIMAL(38,2) AS published,
       coalesce(c.computed, 0) AS computed,
       coalesce(c.computed, 0) - p.value AS difference,
       round((coalesce(c.computed, 0) - p.value) / p.value, 6)::DOUBLE AS relative_difference,
       abs(coalesce(c.computed, 0) - p.value)
           <= p.tolerance * p.value + p.absolute_tolerance AS within_tolerance,
       p.tolerance, p.absolute_tolerance::DECIMAL(38,2) AS absolute_tolerance, p.source, p.note
FROM published p
LEFT JOIN computed c USING (edition, key)
WHERE p.edition IN (SELECT edition FROM {s}.national_summary)
ORDER BY p.edition, p.measure
"""


@contextlib.contextmanager
def _record(conn: duckdb.DuckDBPyConnection) -> Iterator[str]:
    """The published record visible to ``conn``; yields the query."""
    conn.register("published", published_table().to_arrow())
    try:
        yield RECONCILED
    finally:
        conn.unregister("published")


def write_reconciliation(conn: duckdb.DuckDBPyConnection, schema: str = "wh") -> None:
    """(Re)create ``{schema}.reconciliation`` for every edition in the warehouse."""
    with _record(conn) as query:
        sql = query.format(s=schema, computed=COMPUTED.format(s=schema))
        # into the declared table: its columns, types and descriptions stay as declared
        conn.execute(f"DELETE FROM {schema}.reconciliation")
        conn.execute(f"INSERT INTO {schema}.reconciliation BY NAME {sql}")


def reconcile(conn: duckdb.DuckDBPyConnection, schema: str) -> pl.DataFrame:
    """The reconciliation of the editions in ``schema`` (e.g. an edition's staging)."""
    with _record(conn) as query:
        return conn.sql(query.format(s=schema, computed=COMPUTED.format(s=schema))).pl()


@contextlib.contextmanager
def _empty_where_missing(conn: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> Iterator[None]:
    """Make each of ``tables`` that the current schema lacks read as empty (its declared
    columns), for as long as the block runs."""
    present = {
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = current_schema()"
        ).fetchall()
    }
    missing = [t for t in tables if t not in present]
    for table in missing:
        conn.register(table, pl.DataFrame(schema=TABLES[table].polars_schema()))
    try:
        yield
    finally:
        for table in missing:
            conn.unregister(table)


def write_official_reconciliation(conn: duckdb.DuckDBPyConnection) -> None:
    """(Re)write ``official_reconciliation`` of the current catalog (created where missing):
    per edition with a published list and per province, the villages listed, the Taobao
    villages computed and ``difference = computed - listed``. ``provinces`` is written as
    ``provinces.py`` states them; a missing ``official_villages`` or ``taobao_villages``
    reads as empty (computed villages 0)."""
    [(catalog,)] = conn.execute("SELECT current_database()").fetchall()
    ensure_tables(conn, [TABLES["official_reconciliation"], TABLES["provinces"]], catalog)
    write_provinces(conn)
    with _empty_where_missing(conn, ("official_villages", "taobao_villages")):
        conn.execute("DELETE FROM official_reconciliation")
        conn.execute(
            f"INSERT INTO official_reconciliation BY NAME {load('official_reconciliation')}"
        )
