"""Editions as Dagster partitions: one per year from 2009, the current year included."""

from __future__ import annotations

import dagster as dg

FIRST_EDITION = 2009

# end_offset=1: the current year's edition exists as soon as its window closes mid-year
editions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_EDITION), end_offset=1
)


def edition_keys(context: dg.AssetExecutionContext) -> list[int]:
    """The editions a run materializes: one, or a range in a single-run backfill."""
    return [int(key) for key in context.partition_keys]
