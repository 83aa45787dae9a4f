"""The published record as an asset of the graph: the figures AliResearch published, with
their sources (``published_record.py``). It is code, not a table: the reconciliation
reads it, and the graph shows that the reconciliation is computed from it."""

import dagster as dg

from taobao_pipeline.published_record import FIGURES

published_record = dg.AssetSpec(
    "published_record",
    group_name="reference",
    description="The published figures of Taobao villages and towns, each with its source "
    "(taobao_pipeline/published_record.py): national counts, money and shops, and "
    "provincial counts where published. Changes with the code, not with a run.",
    metadata={"figures": len(FIGURES), "module": "taobao_pipeline/published_record.py"},
    kinds={"python"},
)
