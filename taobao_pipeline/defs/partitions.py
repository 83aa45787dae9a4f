"""Editions as Dagster partitions: one per year from 2009, the current year included."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, ThreadPoolExecutor
from typing import TypeVar

import dagster as dg

T = TypeVar("T")

FIRST_EDITION = 2009

# end_offset=1: the current year's edition exists as soon as its window closes mid-year
editions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_EDITION), end_offset=1
)


def partition_range() -> tuple[int, int]:
    """The first and last editions there are partitions for."""
    keys = editions.get_partition_keys()
    return int(keys[0]), int(keys[-1])


def outside_partitions(years: list[int]) -> list[int]:
    """Those of ``years`` that are not editions (before the first, or not yet begun)."""
    first, last = partition_range()
    return [y for y in years if not first <= y <= last]


def edition_keys(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[int]:
    """The editions a run materializes: one, or a range in a single-run backfill."""
    return [int(key) for key in context.partition_keys]


def for_each_edition(
    editions: list[int],
    work: Callable[[int], T],
    parallel: int | None = None,
    size: Callable[[int], int] | None = None,
) -> dict[int, T]:
    """``work(edition)`` for each edition, ``parallel`` at a time (default: one per core).

    Threads suffice: polars and DuckDB release the GIL. Editions are independent, and a
    step over several editions otherwise leaves a core idle in its single-threaded
    stretches (reading a file, writing Parquet). Memory grows with the editions at work:
    with ``size`` (say, rows), editions share the cores only while their sizes add up to
    no more than the largest edition's, so the step needs the memory of the largest
    edition alone.
    """
    workers = min(len(editions), parallel or os.cpu_count() or 1)
    if workers <= 1:
        return {edition: work(edition) for edition in editions}
    # latest first: they are the largest (the movement grew every year), and a large
    # edition started last would run alone at the end (shops: 16.7 s against 15.0 s)
    order = sorted(editions, reverse=True)
    # set when an edition fails or the run is interrupted: no edition starts after that
    stop = threading.Event()
    run = _unless(stop, work) if size is None else _within_largest(order, work, size, stop)
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(run, edition) for edition in order]
        try:
            done = {edition: f.result() for edition, f in zip(order, futures, strict=True)}
        except BaseException:
            # Ctrl-C or SIGTERM lands here (the main thread): the editions at work finish
            # their current step, those waiting never start, and the step stops in seconds
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return {edition: done[edition] for edition in editions}


def _unless(stop: threading.Event, work: Callable[[int], T]) -> Callable[[int], T]:
    def run(edition: int) -> T:
        if stop.is_set():
            raise CancelledError(f"edition {edition} not started: the step is stopping")
        return work(edition)

    return run


def _within_largest(
    editions: list[int], work: Callable[[int], T], size: Callable[[int], int], stop: threading.Event
) -> Callable[[int], T]:
    """``work`` that starts editions in the order given, each once it fits beside those
    at work (or none is): a large edition is not overtaken by small ones."""
    sizes = {edition: size(edition) for edition in editions}
    budget = max(sizes.values())
    busy = 0
    started = 0  # editions started: the next in line is editions[started]
    turn = threading.Condition()
    work = _unless(stop, work)

    def run(edition: int) -> T:
        nonlocal busy, started
        with turn:
            turn.wait_for(
                lambda: (
                    stop.is_set()
                    or editions[started] == edition
                    and (busy == 0 or busy + sizes[edition] <= budget)
                )
            )
            busy += sizes[edition]
            started += 1
            turn.notify_all()
        try:
            return work(edition)
        finally:
            with turn:
                busy -= sizes[edition]
                turn.notify_all()

    return run
