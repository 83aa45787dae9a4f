"""Ingesting one source of an edition: read its files, apply the rules, stage the result.

Sources build on each other (shops must point at accepted villages, revenue at
accepted shops), so staging a source clears what was staged downstream of it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandera.polars as pa

from taobao_pipeline.extracts import read_extract, source_files
from taobao_pipeline.rules import Rules, window
from taobao_pipeline.schemas import SOURCES, revenue_schema, shop_schema, village_schema
from taobao_pipeline.tables import COMPUTED_TABLES
from taobao_pipeline.validation import Validated, validate
from taobao_pipeline.warehouse import SOURCES as ORDER


def _schema(
    conn: duckdb.DuckDBPyConnection, source: str, edition: int, rules: Rules
) -> pa.DataFrameSchema:
    if source == "villages":
        return village_schema()
    if source == "shops":
        return shop_schema(conn.sql("SELECT village_code FROM villages").pl().to_series())
    return revenue_schema(
        window(edition, rules).months, conn.sql("SELECT shop_id FROM shops").pl().to_series()
    )


def ingest(
    conn: duckdb.DuckDBPyConnection, raw_dir: Path, edition: int, source: str, rules: Rules
) -> Validated:
    """Validate ``source``'s files of ``edition`` and stage them in ``conn`` (its staging db).

    Every file is read before anything is written, so a file-level problem
    (``ExtractError``) leaves the staging database as it was.
    """
    spec = SOURCES[source]
    files = {p.name: read_extract(p, spec) for p in source_files(raw_dir / str(edition), spec)}
    result = validate(files, spec, _schema(conn, source, edition, rules))
    stale = ORDER[ORDER.index(source) :]
    conn.register("accepted", result.accepted.to_arrow())
    conn.register("rejected", result.rejected.to_arrow())
    conn.register("audit", result.audit.to_arrow())
    conn.execute("BEGIN")
    for table in (*stale, *COMPUTED_TABLES):
        conn.execute(f"DELETE FROM {table}")
    for table in ("rejected_rows", "load_audit"):
        conn.execute(f"DELETE FROM {table} WHERE list_contains($s, source)", {"s": list(stale)})
    conn.execute(
        f"INSERT INTO {source} BY NAME SELECT $e AS edition, * FROM accepted", {"e": edition}
    )
    conn.execute(
        "INSERT INTO rejected_rows BY NAME SELECT $e AS edition, * FROM rejected", {"e": edition}
    )
    conn.execute(
        "INSERT INTO load_audit BY NAME SELECT $e AS edition, * FROM audit", {"e": edition}
    )
    conn.execute("COMMIT")
    for name in ("accepted", "rejected", "audit"):
        conn.unregister(name)
    return result


def rejected_by_reason(result: Validated) -> dict[str, int]:
    """Rejected row counts per reason, most frequent first."""
    counts = result.rejected.group_by("reason").len().sort("len", descending=True)
    return dict(counts.iter_rows())
