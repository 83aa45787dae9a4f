"""Report: the warehouse's story as one self-contained HTML file, and its charts as images
on the asset's page in the UI."""

import base64

import dagster as dg
import vl_convert

from taobao_pipeline.defs.metadata import markdown_table, money
from taobao_pipeline.defs.resources import PathsResource
from taobao_pipeline.report import report_path
from taobao_pipeline.report.build import build_report

# the report's charts shown on the asset's page, by their section, and their titles there
SHOWN = {
    "chart-record": "chart_villages_and_towns",
    "chart-regions": "chart_regions",
    "chart-provinces": "chart_provinces",
    "chart-clusters": "chart_clusters",
    "chart-counties": "chart_top_counties",
    "chart-audit": "chart_data_quality",
}


def image(spec: dict) -> dg.MetadataValue:
    """A chart as a PNG inside markdown, which the UI shows as an image (a browser refuses
    a page served over http a link to a file:// report)."""
    png = vl_convert.vegalite_to_png(spec, scale=1)
    return dg.MetadataValue.md(f"![chart](data:image/png;base64,{base64.b64encode(png).decode()})")


# the published tables the report draws (each an asset named after its table)
DRAWN = (
    "national_summary",
    "province_summary",
    "county_summary",
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
            # a path to copy: a browser refuses a file:// link from the UI's http page
            "path": dg.MetadataValue.path(str(path.resolve())),
            "headline": markdown_table(
                [{"figure": label, "value": shown} for _, label, shown in headline.figures()]
            ),
            "edition": headline.edition,
            "taobao_villages": headline.taobao_villages,
            "taobao_towns": headline.taobao_towns,
            "revenue": money(headline.revenue_rmb),
            "active_shops": headline.active_shops,
            "editions": dg.MetadataValue.json(built.editions),
            "charts": len(built.charts),
            "bytes": built.bytes,
            "seconds": round(built.seconds, 2),
        }
        | {title: image(built.specs[k]) for k, title in SHOWN.items() if k in built.specs}
    )
