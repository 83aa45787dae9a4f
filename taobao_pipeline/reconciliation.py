"""The computed figures beside the published record (AliResearch, via the press).

``reconciliation`` in the warehouse has one row per edition and published measure:
published value, computed value, difference and whether it is within tolerance
(counts exact, money and shops within 1%). Only published figures are reconciled: the
record (``published_record.py``) holds no stand-in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb
import polars as pl

from taobao_pipeline.published_record import published_table

# The computed side of each measure, per edition, from the schema-qualified tables ``{s}``.
# The tables the computed side reads (the asset's upstream, with the published record).
INPUTS = ("national_summary", "province_summary", "provinces")
# The computed side of each measure, per edition, from the schema-qualified tables ``{s}``.
COMPUTED = """
SELECT edition, 'taobao_villages' AS measure, taobao_villages::DECIMAL(38,2) AS computed
FROM {s}.national_summary
UNION ALL SELECT edition, 'taobao_towns', taobao_towns FROM {s}.national_summary
UNION ALL SELECT edition, 'revenue_rmb', revenue_rmb FROM {s}.national_summary
UNION ALL SELECT edition, 'active_shops', active_shops FROM {s}.national_summary
UNION ALL SELECT edition, 'revenue_rmb_villages_and_towns', revenue_rmb_villages_and_towns
FROM {s}.national_summary
UNION ALL SELECT p.edition, 'province:' || c.province_name, p.taobao_villages
FROM {s}.province_summary p JOIN {s}.provinces c USING (province_code)
"""

RECONCILED = """
WITH computed AS ({computed})
SELECT p.edition, p.measure,
       p.value::DECIMAL(38,2) AS published,
       coalesce(c.computed, 0) AS computed,
       coalesce(c.computed, 0) - p.value AS difference,
       round((coalesce(c.computed, 0) - p.value) / p.value, 6)::DOUBLE AS relative_difference,
       abs(coalesce(c.computed, 0) - p.value) <= p.tolerance * p.value AS within_tolerance,
       p.tolerance, p.source, p.note
FROM published p
LEFT JOIN computed c USING (edition, measure)
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
