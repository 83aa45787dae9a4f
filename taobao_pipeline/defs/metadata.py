"""The assets' metadata: each table's declared columns, and the figures of a run."""

from collections.abc import Mapping, Sequence

import dagster as dg

from taobao_pipeline.tables import TABLES

SINGLE_RUN = dg.BackfillPolicy.single_run()


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
                    description=c.description,
                    constraints=dg.TableColumnConstraints(nullable=c.nullable),
                )
                for c in declared.columns
            ],
            constraints=dg.TableConstraints(other=[f"key: {', '.join(declared.key)}"]),
        ),
        "dagster/table_name": table,
    }


def markdown_table(rows: Sequence[Mapping[str, object]]) -> dg.MetadataValue:
    """Rows of equal keys as a markdown table for the UI."""
    if not rows:
        return dg.MetadataValue.md("_none_")
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    return dg.MetadataValue.md("\n".join(lines))


def edition_metadata(
    per_edition: dict[int, dict[str, object]], rows: str | None = None
) -> dict[str, object]:
    """Metadata for one edition (its figures as numbers) or several (a table per edition).

    ``rows`` names the figure that counts the edition's rows of the table: for one edition
    it becomes ``dagster/partition_row_count``, where Dagster shows a partition's rows (a
    range run records one materialization for all its editions: their counts go in the
    table)."""
    if len(per_edition) == 1:
        figures = dict(next(iter(per_edition.values())))
        if rows is not None:
            figures["dagster/partition_row_count"] = figures.pop(rows)
        return figures
    table = [
        {"edition": e, **{k: v for k, v in m.items() if not isinstance(v, dg.MetadataValue)}}
        for e, m in sorted(per_edition.items())
    ]
    return {"editions": markdown_table(table)}
