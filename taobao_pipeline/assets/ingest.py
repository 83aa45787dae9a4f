"""Ingest: each raw extract read, validated against its Pandera schema, and staged."""

from collections.abc import Callable

import dagster as dg

from taobao_pipeline.assets.common import (
    SINGLE_RUN,
    edition_metadata,
    markdown_table,
    table_metadata,
)
from taobao_pipeline.extracts import ExtractError, estimated_rows, source_files
from taobao_pipeline.ingest import ingest, rejected_by_reason
from taobao_pipeline.partitions import edition_keys, editions, for_each_edition
from taobao_pipeline.resources import RulesResource, WarehouseResource
from taobao_pipeline.schemas import SOURCES

KINDS = {"polars", "pandera", "duckdb"}


def _ingest(
    context: dg.AssetExecutionContext,
    source: str,
    warehouse: WarehouseResource,
    rules: RulesResource,
) -> dg.MaterializeResult:
    def one(edition: int) -> dict[str, object]:
        with warehouse.warehouse.staging(edition) as stg:
            result = ingest(stg, warehouse.raw, edition, source, rules.rules())
        audit = result.audit
        # figures as metadata, not log lines: each log line is an event Dagster stores
        return {
            "files": len(audit),
            "rows_read": int(audit["rows_read"].sum()),
            "rows_accepted": int(audit["rows_accepted"].sum()),
            "rows_rejected": int(audit["rows_rejected"].sum()),
            "rejected_by_reason": markdown_table(
                [{"reason": r, "rows": n} for r, n in rejected_by_reason(result).items()]
            ),
        }

    # revenue editions share the cores only while their rows add up to no more than the
    # largest edition's: two national years of sales at once raised the peak memory from
    # 2.7 GB to 4.6 GB at scale 1.0
    size = revenue_rows(warehouse) if source == "revenue" else None
    per_edition = for_each_edition(edition_keys(context), one, size=size)
    return dg.MaterializeResult(metadata=edition_metadata(per_edition))


def revenue_rows(warehouse: WarehouseResource) -> Callable[[int], int]:
    """An edition's revenue rows, as estimated from its files."""

    def rows(edition: int) -> int:
        try:
            paths = source_files(warehouse.raw / str(edition), SOURCES["revenue"])
        except ExtractError:
            return 0  # its ingest fails, naming the file
        return sum(estimated_rows(path) for path in paths)

    return rows


@dg.asset(
    metadata=table_metadata("villages"),
    group_name="ingest",
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    kinds=KINDS,
)
def villages(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """The village register of the edition (villages.*): accepted rows staged, the others
    rejected with their reason. Restaging it clears the shops and revenue staged on it."""
    return _ingest(context, "villages", warehouse, rules)


@dg.asset(
    metadata=table_metadata("shops"),
    group_name="ingest",
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    kinds=KINDS,
    deps=[villages],
)
def shops(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """The shop registry at the cut-off date (shops.*): shops of accepted villages, with
    valid platform and dates, each shop_id once."""
    return _ingest(context, "shops", warehouse, rules)


@dg.asset(
    metadata=table_metadata("shop_sales"),
    group_name="ingest",
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    kinds=KINDS,
    deps=[shops],
)
def revenue(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """Monthly sales per shop (revenue*.*, one or several parts): rows of accepted shops
    inside the edition's 12-month window, each (shop_id, month) once, money exact.
    Staged summed per shop (``shop_sales``): its revenue and its recent orders."""
    return _ingest(context, "revenue", warehouse, rules)
