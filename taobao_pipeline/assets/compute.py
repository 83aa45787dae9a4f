"""Compute: the contract's metrics and designations, in DuckDB SQL per edition."""

from collections.abc import Callable

import dagster as dg
import duckdb

from taobao_pipeline.assets.common import (
    SINGLE_RUN,
    edition_metadata,
    markdown_table,
    table_metadata,
)
from taobao_pipeline.assets.validate import load_audit
from taobao_pipeline.designations import compute
from taobao_pipeline.partitions import edition_keys, editions, for_each_edition
from taobao_pipeline.resources import RulesResource, WarehouseResource

Describe = Callable[[duckdb.DuckDBPyConnection], dict[str, object]]

TOP_VILLAGES = """
SELECT village_code, village_name, county_name, province_name, active_shops,
       revenue_rmb::VARCHAR AS revenue_rmb
FROM taobao_villages ORDER BY revenue_rmb DESC, village_code LIMIT 10
"""
NATIONAL = """
SELECT taobao_villages, taobao_towns, revenue_rmb::DOUBLE AS revenue_rmb, active_shops, provinces
FROM national_summary
"""


def _top_villages(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    return {"top_villages": markdown_table(conn.sql(TOP_VILLAGES).pl().to_dicts())}


def _national_figures(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    # plain numbers: the UI plots numeric metadata across partitions
    rows = conn.sql(NATIONAL).pl().to_dicts()
    return rows[0] if rows else {}


def _compute(
    context: dg.AssetExecutionContext,
    table: str,
    warehouse: WarehouseResource,
    rules: RulesResource,
    describe: Describe | None = None,
) -> dg.MaterializeResult:
    def one(edition: int) -> dict[str, object]:
        with warehouse.warehouse.staging(edition) as stg:
            rows = compute(stg, table, edition, rules.rules())
            return {"dagster/row_count": rows} | (describe(stg.conn) if describe else {})

    per_edition = for_each_edition(edition_keys(context), one)
    return dg.MaterializeResult(metadata=edition_metadata(per_edition))


ASSET = {
    "group_name": "compute",
    "partitions_def": editions,
    "backfill_policy": SINGLE_RUN,
    "kinds": {"duckdb", "sql"},
}


@dg.asset(**ASSET, metadata=table_metadata("village_metrics"), deps=[load_audit])
def village_metrics(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """One row per register village: shops, active shops (open 30 days, not closed, at
    least 1 order a month over the last 3 months it was open), revenue (exact), density,
    and the three criteria of a Taobao village."""
    return _compute(context, "village_metrics", warehouse, rules)


@dg.asset(**ASSET, metadata=table_metadata("taobao_villages"), deps=[village_metrics])
def taobao_villages(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """The designated villages of the edition: rural village committees with revenue of
    at least RMB 10 million and 100 active shops or 10% of households."""
    return _compute(context, "taobao_villages", warehouse, rules, _top_villages)


@dg.asset(**ASSET, metadata=table_metadata("taobao_towns"), deps=[village_metrics])
def taobao_towns(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """Designated townships: 3 or more Taobao villages, or (from 2019) revenue over RMB 30
    million with over 300 active shops; sub-districts excluded from 2020."""
    return _compute(context, "taobao_towns", warehouse, rules)


@dg.asset(
    **ASSET, metadata=table_metadata("province_summary"), deps=[village_metrics, taobao_towns]
)
def province_summary(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """Per province with any shop: Taobao villages and towns, their revenue and active
    shops, and the province's totals over all villages."""
    return _compute(context, "province_summary", warehouse, rules)


@dg.asset(
    **ASSET, metadata=table_metadata("national_summary"), deps=[village_metrics, taobao_towns]
)
def national_summary(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """The edition's national figures: Taobao villages and towns, revenue and active shops
    of Taobao villages, provinces with a Taobao village."""
    return _compute(context, "national_summary", warehouse, rules, _national_figures)
