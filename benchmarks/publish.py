"""What publishing one edition costs against the size of the warehouse it goes into.

    python -m benchmarks.publish WAREHOUSE [--editions 2022,2009] [--repeat 3]

``WAREHOUSE`` is a published warehouse of every edition, with its staging folder beside it
(the ``run`` leaves both). For each edition given, ``--repeat`` times, alternating, on
copies in a temporary folder: ``Warehouse.publish([edition])`` into the whole history
(replacing the edition), into the history without it (adding it, as the annual run of a
new year does) and into a warehouse of that edition alone; and, apart, the copy of the whole
file that every publish starts with (``shutil.copyfile`` and ``fsync``). Prints medians of
wall and CPU seconds (this process's user and system time, DuckDB's threads included).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb

from benchmarks import parse_editions
from taobao_pipeline.tables import EDITION_TABLES
from taobao_pipeline.warehouse import STORAGE_VERSION, Warehouse


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of ``work()``."""
    os.sync()  # earlier writes are not this one's
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    work()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def copy_with_fsync(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def alone(src: Path, dst: Path, edition: int) -> None:
    """A warehouse of ``edition``'s rows only, in the warehouse's storage format."""
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{src}' AS src (READ_ONLY)")
    conn.execute(f"ATTACH '{dst}' AS dst (STORAGE_VERSION '{STORAGE_VERSION}')")
    for table in EDITION_TABLES:
        conn.execute(
            f"CREATE TABLE dst.{table} AS SELECT * FROM src.{table} WHERE edition = {edition}"
        )
    conn.close()


def without(src: Path, dst: Path, edition: int) -> None:
    """The warehouse without ``edition``: publishing it then adds a new edition."""
    shutil.copyfile(src, dst)
    conn = duckdb.connect(str(dst))
    for table in (*EDITION_TABLES, "edition_provenance"):
        conn.execute(f"DELETE FROM {table} WHERE edition = {edition}")
    conn.execute("CHECKPOINT")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--editions", type=parse_editions, default=[2022])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    src = args.warehouse.resolve()
    staging = src.parent / "staging"
    size = src.stat().st_size / 1e6
    print(f"{src}: {size:.1f} MB")
    with tempfile.TemporaryDirectory(prefix="taobao-bench-publish-", dir=src.parent) as tmp:
        results: dict[str, list[tuple[float, float]]] = {}
        for edition in args.editions:
            whole = Path(tmp) / f"whole-{edition}.duckdb"
            single = Path(tmp) / f"alone-{edition}.duckdb"
            new = Path(tmp) / f"without-{edition}.duckdb"
            pristine = Path(tmp) / "without.duckdb"
            shutil.copyfile(src, whole)
            alone(src, single, edition)
            without(src, pristine, edition)
            targets = {
                f"publish {edition} into the whole history (replaces it)": whole,
                f"publish {edition} into the history without it (adds it)": new,
                f"publish {edition} into a warehouse of it alone "
                f"({single.stat().st_size / 1e6:.0f} MB)": single,
            }
            for _ in range(args.repeat):
                shutil.copyfile(pristine, new)  # the edition is new to it every time
                for key, path in targets.items():
                    wh = Warehouse(path)
                    wh.staging_dir = staging  # the run's staged editions
                    results.setdefault(key, []).append(timed(partial(wh.publish, [edition])))
                copy = Path(tmp) / "copy.duckdb"
                key = f"copy + fsync of the whole history ({size:.0f} MB)"
                results.setdefault(key, []).append(timed(partial(copy_with_fsync, src, copy)))
                copy.unlink()
        for key, runs in results.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"{key:60s} {wall:6.2f} s wall {cpu:6.2f} CPU s (median of {len(runs)})")


if __name__ == "__main__":
    main()
