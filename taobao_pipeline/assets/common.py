"""What the assets of every stage share: partitioning, resources, metadata helpers."""

from collections.abc import Mapping, Sequence

import dagster as dg

from taobao_pipeline.tables import TABLES

SINGLE_RUN = dg.BackfillPolicy.single_run()


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


def edition_metadata(per_edition: dict[int, dict[str, object]]) -> dict[str, object]:
    """Metadata for one edition (its figures as numbers) or several (a table per edition)."""
    if len(per_edition) == 1:
        return dict(next(iter(per_edition.values())))
    rows = [
        {"edition": e, **{k: v for k, v in m.items() if not isinstance(v, dg.MetadataValue)}}
        for e, m in sorted(per_edition.items())
    ]
    return {"editions": markdown_table(rows)}
