"""Report: the warehouse's story as one self-contained HTML file, linked from the UI."""

from pathlib import Path

import dagster as dg

from taobao_pipeline.defs.metadata import markdown_table
from taobao_pipeline.defs.resources import PathsResource
from taobao_pipeline.report import report_path
from taobao_pipeline.report.build import build_report

# the published tables the report draws (each an asset named after its table)
DRAWN = (
    "national_summary",
    "province_summary",
    "taobao_villages",
    "reconciliation",
    "load_audit",
    "rejected_rows",
    "official_reconciliation",
    "provinces",
)


@dg.asset(group_name="report", deps=DRAWN, kinds={"html"})
def report(context: dg.AssetExecutionContext, paths: PathsResource) -> dg.MaterializeResult:
    """The HTML report of every edition in the warehouse (``report.html`` beside the
    warehouse file): the count against the published record, revenue and shops, the shift
    inland, a tile-grid map of the provinces with an edition selector, the top counties,
    data quality and the official lists. Scripts and styles are inlined: it opens from disk
    with no network. Not partitioned: each run redraws it from the whole warehouse."""
    path = report_path(paths.warehouse_path)
    built = build_report(paths.warehouse_path, path)
    context.log.info(f"report: {path} ({built.bytes:,} bytes, {built.seconds:.1f} s)")
    headline = built.headline
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "url": dg.MetadataValue.url(Path(path).resolve().as_uri()),
            "headline": markdown_table(
                [{"figure": label, "value": shown} for _, label, shown in headline.figures()]
            ),
            "edition": headline.edition,
            "taobao_villages": headline.taobao_villages,
            "taobao_towns": headline.taobao_towns,
            "revenue_rmb": float(headline.revenue_rmb),
            "active_shops": headline.active_shops,
            "editions": dg.MetadataValue.json(built.editions),
            "charts": len(built.charts),
            "bytes": built.bytes,
            "seconds": round(built.seconds, 2),
        }
    )
