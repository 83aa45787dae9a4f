"""An edition's staging area: a folder of Parquet files, one per staged table.

Runs build each edition here before publishing it. Parquet because both polars and
DuckDB write and read it fast: DuckDB's own storage compresses on every write, and an
edition's village-level rows would be written three times (register, metrics,
publish). Each file is written under a temporary name and renamed into place, so a
reader sees a table whole or not at all. Rejected rows and the load audit are one file
per source, read together as one table.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import duckdb
import polars as pl

from taobao_pipeline.budget import duckdb_limit, memory_budget
from taobao_pipeline.provinces import write_provinces
from taobao_pipeline.sql import load
from taobao_pipeline.tables import (
    COMPUTED_TABLES,
    INPUT_TABLES,
    PER_SOURCE,
    POLARS_TYPES,
    TABLES,
)

STAGED_TABLES = (*INPUT_TABLES, *COMPUTED_TABLES, *PER_SOURCE)
# staged files are read once or twice and then replaced: the fastest codec to write
# (polars: 0.55 s for 3.9M shops, against 0.79 s with its default zstd)
COMPRESSION = "lz4"


class NotStaged(Exception):
    """A table an operation needs has not been staged for the edition."""


class SumOutOfRange(Exception):
    """A sum of money does not fit DECIMAL(18,2): the edition cannot be computed exactly."""


# the largest amount DECIMAL(18,2) holds
MONEY_LIMIT = "9999999999999999.99"


# One in-memory database per process: opening one costs ~40 ms, and a run of 14 editions
# opens an edition's staging hundreds of times (every asset and check).
_DATABASE: duckdb.DuckDBPyConnection | None = None
# (schema, table) -> the files (path, size, mtime) its view reads: unchanged, kept as is
_VIEWED: dict[tuple[str, str], tuple[tuple[str, int, int], ...]] = {}
_KINDS: dict[str, dict[str, str]] = {}  # schema -> table -> VIEW or TABLE
_LOCK = threading.Lock()  # editions may be staged from several threads
# (memory_limit, temp_directory) set on the database: the budget, and where it spills
_LIMITS: tuple[str, str | None] | None = None
SPILL = ".spill"  # DuckDB's temporary folder, beside the editions' staging folders


# lock files this process holds -> how many times: a run holds its editions throughout,
# and its steps (in the same process) take them again without waiting for themselves.
# Keyed by the resolved path: the command may name the warehouse relatively and the run's
# config absolutely, and a second flock on the same file would wait for itself forever.
_HELD: dict[Path, int] = {}


@contextlib.contextmanager
def edition_lock(folder: Path) -> Iterator[None]:
    """Hold an edition's staging folder alone (a lock file beside it), and remove what
    writers that died in it left (``*.tmp-*``): while the lock is held, no one else writes.
    Reentrant within a process. Take several in order of edition, never the other way."""
    key = folder.parent.resolve() / (folder.name + ".lock")
    with _LOCK:
        held = key in _HELD
        if held:
            _HELD[key] += 1
    if held:
        try:
            yield
        finally:
            with _LOCK:
                _HELD[key] -= 1
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(key, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with _LOCK:
            _HELD[key] = 1
        try:
            for leftover in folder.glob("*.tmp-*"):
                leftover.unlink(missing_ok=True)
            yield
        finally:
            with _LOCK:
                del _HELD[key]
            fcntl.flock(lock, fcntl.LOCK_UN)


def _temporary(path: Path) -> Path:
    """A name to write ``path`` under before renaming it into place, unique to the write."""
    return path.with_name(f"{path.name}.tmp-{uuid.uuid4().hex}")


def spill_folder(folder: Path) -> Path:
    """Where DuckDB spills what exceeds its share of the memory budget: one folder beside
    the editions' staging folders (on the same disk as the staged Parquet)."""
    return folder.parent / SPILL


def _limit(database: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Hold DuckDB to its share of the memory budget (``budget``), spilling beside the
    staging area. The temporary folder is set once per process: DuckDB keeps its first."""
    global _LIMITS
    limit = duckdb_limit(memory_budget())
    spill = _LIMITS[1] if _LIMITS and _LIMITS[1] else str(spill_folder(folder))
    if (limit, spill) == _LIMITS:
        return
    database.execute(f"SET memory_limit = '{limit}'")
    if _LIMITS is None or _LIMITS[1] is None:
        try:
            database.execute(f"SET temp_directory = '{spill}'")
        except duckdb.Error:
            spill = None  # type: ignore[assignment]  # in use elsewhere: DuckDB's own
    _LIMITS = (limit, spill)


def spill_path() -> Path | None:
    """DuckDB's temporary folder in this process, once a staging area set it."""
    return Path(_LIMITS[1]) if _LIMITS and _LIMITS[1] else None


def _cursor(schema: str, folder: Path) -> duckdb.DuckDBPyConnection:
    global _DATABASE
    with _LOCK:
        if _DATABASE is None:
            _DATABASE = duckdb.connect()
        _limit(_DATABASE, folder)
        cursor = _DATABASE.cursor()
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    cursor.execute(f"USE memory.{schema}")
    return cursor


class Staging:
    """One edition's staged tables, as views of an in-memory DuckDB connection (``conn``)."""

    def __init__(self, folder: Path, edition: int) -> None:
        self.folder = folder
        self.edition = edition
        # a schema per folder: views of two warehouses' editions never meet
        digest = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:16]
        self.schema = schema = f"staging_{edition}_{digest}"
        self.conn = _cursor(schema, folder)
        # VIEW of files, or empty TABLE; as left by an earlier Staging of the folder
        self._kind = _KINDS.setdefault(schema, {})
        for table in STAGED_TABLES:
            self._refresh(table)
        if "criteria" not in self._kind:  # the Taobao village criteria, as macros
            self.conn.execute(load("criteria"))
            self._kind["criteria"] = "MACRO"
        if "provinces" not in self._kind:  # the SQL joins it, as it does in the warehouse
            self.conn.execute(TABLES["provinces"].create_sql())
            write_provinces(self.conn)
            self._kind["provinces"] = "TABLE"

    def close(self) -> None:
        self.conn.close()

    def files(self, table: str) -> list[Path]:
        """The Parquet files that hold ``table`` (none: not staged)."""
        if table in PER_SOURCE:
            return sorted(self.folder.glob(f"{table}.*.parquet"))
        path = self.folder / f"{table}.parquet"
        return [path] if path.exists() else []

    def column(self, table: str, name: str) -> pl.Series:
        """One column of a staged table, read by polars (twice as fast as through DuckDB
        for the 3.9M shop ids of a national edition); empty when it is not staged."""
        files = self.files(table)
        if not files:
            dtype = POLARS_TYPES[TABLES[table].column(name).type]
            return pl.Series(name, [], dtype)
        return pl.read_parquet(files, columns=[name]).to_series()

    def _path(self, table: str, source: str | None) -> Path:
        if (table in PER_SOURCE) != (source is not None):
            raise ValueError(f"{table}: a source part is needed exactly for {PER_SOURCE}")
        return self.folder / (f"{table}.{source}.parquet" if source else f"{table}.parquet")

    def _refresh(self, table: str) -> None:
        """Point ``table`` at its files; an unstaged table reads as empty, with its columns."""
        found = self.files(table)
        signature = tuple((str(f), (st := f.stat()).st_size, st.st_mtime_ns) for f in found)
        if table in self._kind and _VIEWED.get((self.schema, table)) == signature:
            return
        if table in self._kind:
            self.conn.execute(f"DROP {self._kind[table]} {table}")
        _VIEWED[(self.schema, table)] = signature
        files = [str(f) for f in found]
        if files:
            self.conn.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({files})")
            self._kind[table] = "VIEW"
        else:
            self.conn.execute(TABLES[table].create_sql())
            self._kind[table] = "TABLE"

    def write(
        self,
        table: str,
        query: str,
        params: dict[str, object] | None = None,
        source: str | None = None,
    ) -> int:
        """Replace ``table`` (for rejected rows and the audit, ``source``'s part of it) with
        the rows of ``query``, cast to the table's definition; returns the rows written."""
        columns = ", ".join(
            f"CAST({c.name} AS {c.type}) AS {c.name}" for c in TABLES[table].columns
        )
        relation = self.conn.sql(f"SELECT {columns} FROM ({query})", params=params)
        try:
            return self._replace(
                table,
                source,
                lambda tmp: relation.write_parquet(str(tmp), compression=COMPRESSION),
            )
        except duckdb.ConversionException as e:
            if "DECIMAL(18,2)" not in str(e):
                raise
            # the sums of valid amounts (a village's, a province's) can exceed the type
            raise SumOutOfRange(
                f"edition {self.edition}: {table}: a sum of money is beyond DECIMAL(18,2) "
                f"(at most {MONEY_LIMIT}): {str(e).splitlines()[0]}"
            ) from None

    def write_frame(
        self, table: str, frame: pl.DataFrame | pl.LazyFrame, source: str | None = None
    ) -> int:
        """Like ``write``, for rows in polars (written by polars: no copy to DuckDB; a lazy
        frame streamed to the file); ``frame`` has every column of the table but
        ``edition``."""
        declared = TABLES[table]
        typed = frame.select(
            pl.lit(self.edition).alias(name) if name == "edition" else pl.col(name)
            for name in declared.names
        ).cast(declared.polars_schema())
        if isinstance(typed, pl.LazyFrame):
            return self._replace(
                table, source, lambda tmp: typed.sink_parquet(tmp, compression=COMPRESSION)
            )
        return self._replace(
            table, source, lambda tmp: typed.write_parquet(tmp, compression=COMPRESSION)
        )

    def _replace(self, table: str, source: str | None, write: Callable[[Path], object]) -> int:
        target = self._path(table, source)
        tmp = _temporary(target)
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            write(tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        self._refresh(table)
        return self.conn.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()[0][0]

    def _note_path(self, table: str) -> Path:
        return self.folder / f"{table}.note.json"

    def write_note(self, table: str, note: dict[str, object]) -> None:
        """Record what ``table`` was staged under (say, the sales window), beside it."""
        path = self._note_path(table)
        tmp = _temporary(path)
        try:
            tmp.write_text(json.dumps(note, sort_keys=True))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def note(self, table: str) -> dict[str, object] | None:
        """What ``table`` was staged under, if recorded."""
        path = self._note_path(table)
        return json.loads(path.read_text()) if path.exists() else None

    def remove_note(self, name: str) -> None:
        """Forget what ``name`` was staged under (before it is staged again)."""
        self._note_path(name).unlink(missing_ok=True)

    def remove(self, tables: Iterable[str], source: str | None = None) -> None:
        """Unstage ``tables`` (for rejected rows and the audit, only ``source``'s part)."""
        for table in tables:
            if table in PER_SOURCE:
                paths = [self._path(table, source)] if source else self.files(table)
            else:
                paths = self.files(table)
            for path in [*paths, self._note_path(table)]:
                path.unlink(missing_ok=True)
            self._refresh(table)

    def require(self, tables: Iterable[str]) -> None:
        """Raise ``NotStaged`` naming the first of ``tables`` with no file."""
        for table in tables:
            if not self.files(table):
                raise NotStaged(
                    f"edition {self.edition}: {table} has not been staged in {self.folder}"
                )
