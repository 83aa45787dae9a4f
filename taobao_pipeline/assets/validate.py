"""Validate: the edition's rejected rows and its load audit, proved complete."""

import dagster as dg

from taobao_pipeline.assets.common import (
    SINGLE_RUN,
    edition_metadata,
    markdown_table,
    table_metadata,
)
from taobao_pipeline.assets.ingest import revenue, shops, villages
from taobao_pipeline.partitions import edition_keys, editions
from taobao_pipeline.resources import WarehouseResource
from taobao_pipeline.warehouse import SOURCES

UNBALANCED = """
SELECT source, file, rows_read, rows_accepted, rows_rejected FROM load_audit
WHERE rows_read <> rows_accepted + rows_rejected
"""


@dg.asset(
    metadata=table_metadata("load_audit"),
    group_name="validate",
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    kinds={"duckdb"},
    deps=[villages, shops, revenue],
)
def load_audit(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Rows read, accepted and rejected per input file of the edition. Fails unless every
    source was staged and every file balances (read = accepted + rejected)."""
    per_edition: dict[int, dict[str, object]] = {}
    for edition in edition_keys(context):
        with warehouse.warehouse.staging(edition) as stg:
            conn = stg.conn
            staged = {
                r[0] for r in conn.execute("SELECT DISTINCT source FROM load_audit").fetchall()
            }
            missing = [s for s in SOURCES if s not in staged]
            if missing:
                raise dg.Failure(f"edition {edition}: not staged yet: {', '.join(missing)}")
            unbalanced = conn.execute(UNBALANCED).fetchall()
            if unbalanced:
                raise dg.Failure(f"edition {edition}: files that do not balance: {unbalanced}")
            rows = conn.sql("SELECT * EXCLUDE (edition) FROM load_audit ORDER BY ALL").pl()
        per_edition[edition] = {
            "files": rows.height,
            "rows_read": int(rows["rows_read"].sum()),
            "rows_rejected": int(rows["rows_rejected"].sum()),
            "audit": markdown_table(rows.to_dicts()),
        }
    return dg.MaterializeResult(metadata=edition_metadata(per_edition))


@dg.asset(
    metadata=table_metadata("rejected_rows"),
    group_name="validate",
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    kinds={"duckdb"},
    deps=[villages, shops, revenue],
)
def rejected_rows(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Every input row the contract's rules refused, with its file, row number, the rule it
    broke and its original values; summarized by source and reason."""
    per_edition: dict[int, dict[str, object]] = {}
    for edition in edition_keys(context):
        with warehouse.warehouse.staging(edition) as stg:
            by_reason = stg.conn.sql(
                "SELECT source, reason, count(*) AS rows FROM rejected_rows "
                "GROUP BY ALL ORDER BY rows DESC, source, reason"
            ).pl()
        per_edition[edition] = {
            "rows_rejected": int(by_reason["rows"].sum()),
            "by_reason": markdown_table(by_reason.to_dicts()),
        }
    return dg.MaterializeResult(metadata=edition_metadata(per_edition))
