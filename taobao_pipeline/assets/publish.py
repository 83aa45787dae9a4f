"""Publish: the staged editions replace theirs in the warehouse analysts query."""

import datetime as dt

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
from taobao_pipeline.fingerprints import code_version, note_name, provenance_frame, provenance_rows
from taobao_pipeline.partitions import edition_keys, editions
from taobao_pipeline.resources import RulesResource, WarehouseResource
from taobao_pipeline.schemas import SOURCES
from taobao_pipeline.tables import COMPUTED_TABLES

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
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.MaterializeResult:
    """The DuckDB file users query. The run's editions replace theirs in every table in
    one transaction on a copy, which then replaces the file atomically: readers keep
    their snapshot, and a failure leaves the file as it was. ``edition_provenance``
    records, in the same transaction, the input files (SHA-256), rules and code each
    edition was computed from: ``taobao-pipeline run`` skips an edition that matches."""
    wh = warehouse.warehouse
    keys = edition_keys(context)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    for edition in keys:
        with wh.staging(edition) as stg:
            inputs = {source: stg.note(note_name(source)) for source in SOURCES}
            computed = {table: stg.note(table) for table in COMPUTED_TABLES}
        rows += provenance_rows(edition, inputs, computed, rules.rules(), context.run.run_id, now)
    counts = wh.publish(keys, provenance_frame(rows))
    per_edition: dict[int, dict[str, object]] = {}
    with wh.read_only() as conn:
        for edition in keys:
            cur = conn.execute(NATIONAL, {"e": edition})
            names = [d[0] for d in cur.description]
            row = cur.fetchall()[0]
            per_edition[edition] = {
                name: float(value) if name.endswith("rmb") else value
                for name, value in zip(names, row, strict=True)
            }
    metadata = edition_metadata(per_edition)
    metadata["path"] = dg.MetadataValue.path(str(wh.path))
    metadata["rows_by_table"] = dg.MetadataValue.json(counts)
    metadata["code_version"] = code_version()
    return dg.MaterializeResult(metadata=metadata)
