"""Publish: the staged editions replace theirs in the warehouse analysts query."""

import dagster as dg

from taobao_pipeline.assets.common import SINGLE_RUN, edition_metadata
from taobao_pipeline.assets.compute import (
    national_summary,
    province_summary,
    taobao_towns,
    taobao_villages,
    village_metrics,
)
from taobao_pipeline.assets.validate import load_audit, rejected_rows
from taobao_pipeline.partitions import edition_keys, editions
from taobao_pipeline.resources import WarehouseResource

NATIONAL = "SELECT * EXCLUDE (edition) FROM national_summary WHERE edition = $e"


@dg.asset(
    group_name="publish",
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    kinds={"duckdb"},
    deps=[
        village_metrics,
        taobao_villages,
        taobao_towns,
        province_summary,
        national_summary,
        rejected_rows,
        load_audit,
    ],
)
def warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The DuckDB file users query. The run's editions replace theirs in every table in
    one transaction on a copy, which then replaces the file atomically: readers keep
    their snapshot, and a failure leaves the file as it was."""
    wh = warehouse.warehouse
    keys = edition_keys(context)
    counts = wh.publish(keys)
    per_edition: dict[int, dict[str, object]] = {}
    for edition in keys:
        # the staged figures just published: only the publish opens the warehouse file
        # (a foreign read-write session on it would refuse a reader)
        with wh.staging(edition) as stg:
            cur = stg.conn.execute(NATIONAL, {"e": edition})
            names = [d[0] for d in cur.description]
            row = cur.fetchall()[0]
            per_edition[edition] = {
                name: float(value) if name.endswith("rmb") else value
                for name, value in zip(names, row, strict=True)
            }
    metadata = edition_metadata(per_edition)
    metadata["path"] = dg.MetadataValue.path(str(wh.path))
    metadata["rows_by_table"] = dg.MetadataValue.json(counts)
    return dg.MaterializeResult(metadata=metadata)
