"""Where the pipeline's time goes: its library pieces timed directly, without Dagster.

For each edition, the three sources are ingested (``taobao_pipeline.ingest.ingest_source``, split
into reading the files, validating them and staging the result), the five tables computed
(``taobao_pipeline.computations.compute``); then all editions are published
(``Warehouse.publish``). The Dagster run does the same work plus its own bookkeeping,
metadata and asset checks.

    python -m benchmarks.profile RAW_DIR WORK_DIR [--editions 2009-2022]

prints a JSON object: stage -> [wall seconds, CPU seconds]. CPU seconds are the process's
(every thread's) user and system time: over wall seconds, how many cores a stage kept busy.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks import parse_editions

_start, _start_cpu = time.perf_counter(), time.process_time()
import taobao_pipeline.ingest as ingest_module  # noqa: E402  (the import is timed)
from taobao_pipeline.computations import compute  # noqa: E402
from taobao_pipeline.rules import Rules  # noqa: E402
from taobao_pipeline.sources import SOURCES  # noqa: E402
from taobao_pipeline.tables import COMPUTED_TABLES  # noqa: E402
from taobao_pipeline.warehouse import Warehouse  # noqa: E402

IMPORT_SECONDS = (time.perf_counter() - _start, time.process_time() - _start_cpu)


class Timings:
    """Wall and CPU seconds accumulated per stage, in the order stages were first seen."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    @contextmanager
    def time(self, stage: str) -> Iterator[None]:
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[stage][0] += time.perf_counter() - start
            self.seconds[stage][1] += time.process_time() - start_cpu

    def wrap(self, stage: Callable[[], str], func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` with its calls timed under the stage name ``stage()`` gives at call time."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.time(stage()):
                return func(*args, **kwargs)

        return timed


def profile(raw: Path, work: Path, editions: list[int]) -> dict[str, list[float]]:
    """Run the pipeline's pieces over ``editions`` into ``work``; [wall, CPU] seconds per
    stage."""
    timings = Timings()
    timings.seconds["import taobao_pipeline"] = list(IMPORT_SECONDS)
    current = {"source": ""}
    # instrument the two phases of ingest_source's judgement: the rest of it is staging
    ingest_module._read_and_judge = timings.wrap(
        lambda: f"ingest {current['source']}: read and judge the batches (Pandera rules)",
        ingest_module._read_and_judge,
    )
    ingest_module.judge_whole = timings.wrap(
        lambda: f"ingest {current['source']}: whole-source rules in SQL (upstream keys, repeats)",
        ingest_module.judge_whole,
    )
    rules = Rules()
    warehouse = Warehouse(work / "wh.duckdb")
    for edition in editions:
        with warehouse.staging(edition) as stg:
            for source in SOURCES:
                current["source"] = source
                with timings.time(f"ingest {source}: total"):
                    ingest_module.ingest_source(stg, raw, edition, source, rules)
            for table in COMPUTED_TABLES:
                with timings.time(f"compute {table}"):
                    compute(stg, table, edition, rules)
    with timings.time("publish (all editions)"):
        warehouse.publish(editions)
    return dict(timings.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--editions", type=parse_editions, default=list(range(2009, 2023)))
    args = parser.parse_args()
    print(json.dumps(profile(args.raw, args.work, args.editions)))


if __name__ == "__main__":
    main()
