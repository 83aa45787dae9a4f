"""The rows of one source that passed their batch's rules, kept between the ingest's two
phases: in memory when they all fit a share of the budget, else all in Parquet parts.

Phase one judges the batches and hands each one's passed rows to ``Parts.add``; phase two
(the whole-source rules, staging) reads them back whole, through DuckDB (``Parts.sql``)
or polars (``Parts.lazy``), in the order of the files and their rows. Held in memory, a
national edition's 9.6M sales rows (0.84 GB) are neither written nor read back: 2022 at
scale 1.0 wrote 1.05 GB of parts in 4.3 CPU s and read them three times.

The share held is the batches' share of the budget (``budget.held_bytes``): phase one's
batches and what it holds coexist while DuckDB is idle, and in phase two what is held
takes the place of the batches beside DuckDB's ``memory_limit``. So the budget holds in
both phases, and a source too large for it is written out as before, whatever its size.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from taobao_pipeline.extracts import FILE

# a part of the work folder: one row group, no statistics (read whole, never filtered on
# them), not compressed (read soon, then deleted). 429k shops written in 0.06 s against
# 0.12 s with polars' defaults; the 38.6M passed sales of 2022 at scale 4, read and judged
# in 10.9 s (18.9 CPU s) against 12.9 s (22.8) compressed by lz4, in 1.75 GB against 1.29
PART = {"compression": "uncompressed", "statistics": False, "row_group_size": 1 << 30}


def as_arrow(rows: pl.DataFrame) -> pa.Table:
    """``rows`` as the Arrow table held: text as string views, polars' own layout, so
    neither way is copied (4.4M shops: 0.01 s, against 0.2 s each way as large strings)."""
    return rows.to_arrow(compat_level=pl.CompatLevel.newest())


class _InProcess:
    """Bytes held by every source being ingested in the process: editions are ingested
    two at a time (``defs.partitions.for_each_edition``), and share the one limit."""

    lock = threading.Lock()
    held = 0


class Parts:
    """One source's passed rows, batch by batch: each ``(file index, batch number)``
    holds an Arrow table in memory or the path of its Parquet part in ``work``.

    Held rows are kept as Arrow, converted once as they are added: DuckDB scans them and
    polars reads them back without a copy (9.6M sales rows: 0.05 s), where handing
    polars frames to DuckDB copied them (0.6 s and 1 GB)."""

    def __init__(self, work: Path, limit: int) -> None:
        self.work = work
        self.limit = limit  # bytes that may be held in memory, by all sources at once
        self.held = 0
        self.overflowed = False  # the rows did not fit: all are written
        self._batches: dict[tuple[int, int], tuple[pa.Table, int] | Path] = {}
        self._lock = _InProcess.lock
        self._views: dict[int, str] = {}  # file -> its held rows' view
        self._conn: duckdb.DuckDBPyConnection | None = None

    def add(self, file: int, batch: int, rows: pl.DataFrame) -> None:
        """Keep ``rows`` (the passed rows of batch ``batch`` of file ``file``): held while
        the source fits the limit; once it does not, every batch is written out, those
        held until then too. (All or nothing: DuckDB ran out of memory grouping a union
        of held and written rows, 35M shops, that it grouped apart in 0.7 and 1.9 s.)"""
        table = as_arrow(rows)
        size = table.get_total_buffer_size()  # the memory it holds (polars' estimate is less)
        out: list[tuple[tuple[int, int], pa.Table]] = []
        with self._lock:
            keep = not self.overflowed and _InProcess.held + size <= self.limit
            if keep:
                self._hold(size)
                self._batches[(file, batch)] = (table, size)
            elif not self.overflowed:
                self.overflowed = True
                out = [(k, p[0]) for k, p in self._batches.items() if not isinstance(p, Path)]
        if keep:
            return
        del table
        path = self._write(file, batch, rows)
        with self._lock:
            self._batches[(file, batch)] = path
        for key, held in out:
            path = self._write(*key, pl.from_arrow(held))
            with self._lock:
                if isinstance(self._batches.get(key), tuple):
                    self._batches[key] = path
                    self._hold(-held.get_total_buffer_size())
                else:  # its file was dropped meanwhile, to be read again
                    path.unlink()

    def _hold(self, size: int) -> None:
        """Count ``size`` more bytes held (less, if negative); under ``_lock``."""
        self.held += size
        _InProcess.held += size

    def _write(self, file: int, batch: int, rows: pl.DataFrame) -> Path:
        # a name of its own: a file read again may write its batch's part while the part
        # of the same batch held before is written out
        part = self.work / f"passed-{file:05d}-{batch:06d}-{uuid.uuid4().hex[:8]}.parquet"
        rows.with_columns(pl.col(FILE).cast(pl.String)).write_parquet(part, **PART)
        return part

    def drop_file(self, file: int) -> None:
        """Forget what was kept of ``file`` (it is read again from its start)."""
        with self._lock:
            for key in [k for k in self._batches if k[0] == file]:
                part = self._batches.pop(key)
                if isinstance(part, Path):
                    part.unlink()
                else:
                    self._hold(-part[1])

    def _ordered(self, file: int) -> list[tuple[pa.Table, int] | Path]:
        return [self._batches[k] for k in sorted(self._batches) if k[0] == file]

    def __bool__(self) -> bool:
        return bool(self._batches)

    def files(self) -> list[int]:
        """The indexes of the files with rows kept, in order."""
        return sorted({k[0] for k in self._batches})

    def written(self) -> int:
        """How many batches went to Parquet parts."""
        return sum(isinstance(p, Path) for p in self._batches.values())

    def rows(self) -> int:
        """How many rows are kept."""
        return sum(
            pl.scan_parquet(p).select(pl.len()).collect().item()
            if isinstance(p, Path)
            else p[0].num_rows
            for p in self._batches.values()
        )

    def array(self, name: str, dtype: np.dtype) -> np.ndarray:
        """One column of every row kept, in no particular order, as one numpy array filled
        batch by batch (no other copy of it is made)."""
        found = np.empty(self.rows(), dtype=dtype)
        at = 0
        for p in self._batches.values():
            column = pq.read_table(p, columns=[name])[name] if isinstance(p, Path) else p[0][name]
            found[at : at + len(column)] = column.to_numpy()
            at += len(column)
        return found

    def lazy(self, file: int | None = None) -> pl.LazyFrame:
        """The rows (of ``file``), in order, as polars scans them."""
        frames = [
            pl.scan_parquet(p) if isinstance(p, Path) else pl.from_arrow(p[0]).lazy()
            for f in ([file] if file is not None else self.files())
            for p in self._ordered(f)
        ]
        return pl.concat(frames, how="diagonal_relaxed")

    def sql(self, conn: duckdb.DuckDBPyConnection, file: int | None = None) -> str:
        """A DuckDB relation of the rows (of ``file``), for a ``FROM`` clause of ``conn``:
        each file's held rows a view of its Arrow tables (registered once), its parts
        read as Parquet, the files' columns matched by name (a column may be typed
        differently in two files)."""
        assert self._conn in (None, conn), "the held rows are registered with one connection"
        self._conn = conn
        selects, paths = [], []
        for f in [file] if file is not None else self.files():
            ordered = self._ordered(f)
            held = [p[0] for p in ordered if not isinstance(p, Path)]
            paths += [str(p) for p in ordered if isinstance(p, Path)]
            if held:
                if f not in self._views:
                    self._views[f] = f"_held_{uuid.uuid4().hex[:12]}"
                    conn.register(self._views[f], pa.concat_tables(held))
                selects.append(f"SELECT * FROM {self._views[f]}")
        if paths:  # one scan of them all: a union of a scan per file ran out of memory
            selects.append(f"SELECT * FROM read_parquet({paths}, union_by_name = true)")
        return "(" + " UNION ALL BY NAME ".join(selects) + ")"

    def release(self) -> None:
        """Unregister the views of ``sql`` and let go of the held rows."""
        if self._conn is not None:
            for name in self._views.values():
                with contextlib.suppress(duckdb.Error):
                    self._conn.unregister(name)
        self._views.clear()
        with self._lock:
            self._batches.clear()
            self._hold(-self.held)
