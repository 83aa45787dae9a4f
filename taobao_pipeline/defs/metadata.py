"""What the UI shows of a table: its declared columns, and each edition's own figures.

A step over several editions (a single-run backfill) records one materialization per
edition; each carries that edition's metadata (``per_edition``), so an asset's page reads
the same whichever run made it. Money is worded for a reader ("RMB 1.00 trillion") beside
its exact value, both from DECIMAL; the plotted numbers are plain numbers.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb

from taobao_pipeline.sql import load
from taobao_pipeline.summary import rmb_words
from taobao_pipeline.tables import TABLES

SINGLE_RUN = dg.BackfillPolicy.single_run()


def _as_written(text: str) -> str:
    """``text`` as markdown shows it as written: a leading ``>`` (say ``>= 100 active
    shops``) would otherwise render as a quotation."""
    return "\\" + text if text[:1] in (">", "#", "-", "+", "*") else text


def table_spec(table: str, description: str, deps: Sequence[str] = (), **kwargs) -> dg.AssetSpec:
    """The asset of the table ``table``: named after it, its columns from its declaration,
    upstream the tables it is computed from."""
    return dg.AssetSpec(
        table,
        deps=list(deps),
        description=description,
        metadata=table_metadata(table),
        **kwargs,
    )


def table_metadata(table: str) -> dict[str, object]:
    """Definition metadata of an asset stored as ``table``: its columns, described, from
    the table's declaration (``tables.TABLES``)."""
    declared = TABLES[table]
    return {
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(
                    c.name,
                    c.type,
                    description=_as_written(c.description),
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in declared.columns
            ],
            constraints=dg.TableConstraints(other=[f"key: {', '.join(declared.key)}"]),
        ),
        "dagster/table_name": table,
    }


def warehouse_uri(warehouse: Path, table: str) -> str:
    """Where a warehouse table lives, as ``dagster/uri`` shows it."""
    return f"duckdb://{Path(warehouse).absolute()}?table={table}"


def _cell(value: object) -> str:
    text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    # one line, and a | inside a value does not split its cell
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(rows: Sequence[Mapping[str, object]]) -> dg.MetadataValue:
    """Rows of equal keys as a markdown table for the UI."""
    if not rows:
        return dg.MetadataValue.md("_none_")
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(_cell(r[h]) for h in head) + " |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines))


def money(amount: Decimal) -> str:
    """``RMB 1.00 trillion (1,000,921,658,959.94)``: in words, then exact."""
    return f"{rmb_words(amount)} ({amount:,.2f})"


def per_edition(
    context: dg.AssetExecutionContext, asset: str, metadata: Mapping[int, Mapping[str, object]]
) -> None:
    """Each edition's own metadata on its own materialization of ``asset``: a range run
    records a materialization per edition, and without this they would all carry the
    same. Call it before the asset's ``MaterializeResult``."""
    for edition, values in metadata.items():
        context.add_asset_metadata(dict(values), asset_key=asset, partition_key=str(edition))


def rows(count: int) -> dict[str, object]:
    """An edition's rows of a table, where Dagster shows a partition's rows."""
    return {"dagster/partition_row_count": count}


NATIONAL = """
SELECT taobao_villages, taobao_towns, revenue_rmb, active_shops, share_outside_east, provinces,
       clusters, large_clusters, super_large_clusters, share_in_clusters
FROM national_summary
"""


def _percent(share: object) -> float:
    return round(float(share) * 100, 1) if share is not None else 0.0


def national_figures(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """An edition's national figures, from its staged ``national_summary``: the counts and
    percentages as numbers (the UI plots them across editions, one point each), revenue in
    words beside its exact value, and in billions for the plot."""
    found = conn.execute(NATIONAL).fetchall()
    if not found:
        return {}
    villages, towns, revenue, shops, outside, provinces, *clusters, inside = found[0]
    return {
        "taobao_villages": villages,
        "taobao_towns": towns,
        "revenue": dg.MetadataValue.text(money(revenue)),
        "revenue_rmb_billions": float(round(revenue / Decimal(10) ** 9, 2)),
        "active_shops": shops,
        "outside_the_east_percent": _percent(outside),
        "provinces": provinces,
    }


def cluster_figures(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """An edition's Taobao village clusters by tier and the share of its Taobao villages
    inside them (numbers, plotted one point per edition), from its ``national_summary``."""
    found = conn.execute(NATIONAL).fetchall()
    if not found:
        return {}
    *_, clusters, large, super_large, inside = found[0]
    return {
        "clusters": clusters,
        "large_clusters": large,
        "super_large_clusters": super_large,
        "in_clusters_percent": _percent(inside),
    }


def _preview(conn: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, object]]:
    cursor = conn.execute(load(name))
    head = [d[0] for d in cursor.description]
    shown = []
    for row in cursor.fetchall():
        record = dict(zip(head, row, strict=True))
        record["revenue_rmb"] = rmb_words(record["revenue_rmb"])
        shown.append({("revenue" if k == "revenue_rmb" else k): v for k, v in record.items()})
    return shown


def top_villages(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The edition's ten Taobao villages of largest revenue."""
    return {"top_villages": markdown_table(_preview(conn, "top_villages"))}


def clusters(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The edition's clusters (its twenty largest) as a table."""
    return {"largest_clusters": markdown_table(_preview(conn, "cluster_preview"))}


def provinces(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The edition's provinces with a Taobao village, as a table."""
    return {"provinces_with_taobao_villages": markdown_table(_preview(conn, "province_preview"))}
