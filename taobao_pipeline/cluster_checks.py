"""The invariants of the cluster tables, as violations per edition (no Dagster here).

Each function runs its SQL (``sql/checks/*.sql``) on a connection where ``county_summary``,
``taobao_clusters``, ``taobao_villages`` and ``national_summary`` are visible by name (an
edition's staging, or the warehouse with ``USE``) and returns one row per violation:
``edition``, ``county_code`` (empty for a national figure), ``violation`` (what broke),
``figure`` and ``bound``. No row: the check holds, for every edition present.
"""

from __future__ import annotations

import duckdb
import polars as pl

from taobao_pipeline.sql import load

#: the tables the checks read (the asset checks' assets: county_summary, taobao_clusters)
INPUTS = ("county_summary", "taobao_clusters", "taobao_villages", "national_summary")

VIOLATION_SCHEMA = {
    "edition": pl.Int32,
    "county_code": pl.String,
    "violation": pl.String,
    "figure": pl.Int64,
    "bound": pl.Int64,
}


def _violations(conn: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    frame = conn.sql(load(name)).pl()
    return frame.cast(VIOLATION_SCHEMA) if frame.height else pl.DataFrame(schema=VIOLATION_SCHEMA)


def villages_in_clusters_violations(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Villages in clusters <= villages: a cluster holds no more Taobao villages than its
    county-level unit has (recounted from ``taobao_villages``); the nation's villages in
    clusters are the clusters' sum and at most its Taobao villages."""
    return _violations(conn, "checks/villages_in_clusters")


def cluster_tier_violations(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Tiers nested: each cluster's tier follows its Taobao villages (10, 30, 100), a
    super-large cluster is large, no unit with >= 10 Taobao villages is left out, and the
    nation counts super-large <= large <= clusters, as ``taobao_clusters`` holds them."""
    return _violations(conn, "checks/cluster_tiers")
