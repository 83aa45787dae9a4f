"""Editions as Dagster partitions: one per year from 2009, the current year included."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import dagster as dg

T = TypeVar("T")

FIRST_EDITION = 2009

# end_offset=1: the current year's edition exists as soon as its window closes mid-year
editions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_EDITION), end_offset=1
)


def edition_keys(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[int]:
    """The editions a run materializes: one, or a range in a single-run backfill."""
    return [int(key) for key in context.partition_keys]


def for_each_edition(
    editions: list[int], work: Callable[[int], T], parallel: int | None = None
) -> dict[int, T]:
    """``work(edition)`` for each edition, ``parallel`` at a time (default: one per core).

    Threads suffice: polars and DuckDB release the GIL. Editions are independent, and a
    step over several editions otherwise leaves a core idle in its single-threaded
    stretches (reading a file, writing Parquet). Memory grows with ``parallel``.
    """
    workers = min(len(editions), parallel or os.cpu_count() or 1)
    if workers <= 1:
        return {edition: work(edition) for edition in editions}
    # latest first: they are the largest (the movement grew every year), and a large
    # edition started last would run alone at the end (shops: 16.7 s against 15.0 s)
    order = sorted(editions, reverse=True)
    with ThreadPoolExecutor(workers) as pool:
        done = dict(zip(order, pool.map(work, order), strict=True))
    return {edition: done[edition] for edition in editions}
