"""The warehouse file and each edition's staging folder.

Runs never write the file analysts read. Each edition is built in its own staging
folder (``staging``); publishing copies the warehouse, replaces the editions' rows in one
transaction, and renames the copy over the warehouse. So a failed load leaves the
warehouse as it was, an analyst's open read-only session keeps its snapshot (the
old file stays alive until closed), and a run never waits for a reader's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import polars as pl

from taobao_pipeline.official_lists import (
    OfficialList,
    write_official_list,
    write_official_reconciliation,
)
from taobao_pipeline.provinces import provinces_frame
from taobao_pipeline.reconciliation import write_reconciliation
from taobao_pipeline.staging import Staging
from taobao_pipeline.tables import (
    PUBLISHED_TABLES,
    WAREHOUSE_TABLES,
    describe_tables,
    ensure_tables,
)

# Every DuckDB 1.x client (the CLI, BI tools' drivers) must open the warehouse: the
# storage of DuckDB 1.0 (format number 64). A 1.4 file (67) is refused by 1.0 to 1.3.
# It costs the publish at scale 1.0 about 3 s (15.0 s against 11.9 s).
STORAGE_VERSION = "v1.0.0"
STORAGE_NUMBER = 64


def storage_number(path: Path) -> int:
    """The storage format number in a DuckDB file's header."""
    with open(path, "rb") as f:
        header = f.read(20)
    return int.from_bytes(header[12:20], "little") if header[8:12] == b"DUCK" else -1


@contextlib.contextmanager
def _inside_warehouse(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Make ``wh`` the current database (the official-list SQL names only the schema)."""
    conn.execute("USE wh")
    try:
        yield
    finally:
        conn.execute("USE memory")


def reconcile_official_lists(conn: duckdb.DuckDBPyConnection) -> None:
    """Recompute listed against computed villages, if any official list was imported."""
    imported = conn.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE database_name = 'wh' AND table_name = 'official_villages'"
    ).fetchall()[0][0]
    if imported:
        with _inside_warehouse(conn):
            write_official_reconciliation(conn)


def write_provinces(conn: duckdb.DuckDBPyConnection) -> None:
    """The ``provinces`` table as ``provinces.py`` states them (the SQL joins it)."""
    conn.register("_provinces", provinces_frame().to_arrow())
    try:
        [(differ,)] = conn.execute(
            "SELECT count(*) FROM ((SELECT * FROM _provinces EXCEPT SELECT * FROM wh.provinces)"
            " UNION ALL (SELECT * FROM wh.provinces EXCEPT SELECT * FROM _provinces))"
        ).fetchall()
        if differ:
            conn.execute("DELETE FROM wh.provinces")
            conn.execute("INSERT INTO wh.provinces BY NAME SELECT * FROM _provinces")
    finally:
        conn.unregister("_provinces")


class Warehouse:
    """The published warehouse file and the editions' staging folders beside it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.staging_dir = self.path.parent / "staging"

    def staging_path(self, edition: int) -> Path:
        return self.staging_dir / str(edition)

    @contextlib.contextmanager
    def staging(self, edition: int) -> Iterator[Staging]:
        """``edition``'s staged tables (see ``staging.Staging``)."""
        staged = Staging(self.staging_path(edition), edition)
        try:
            yield staged
        finally:
            staged.close()

    @contextlib.contextmanager
    def _publish_lock(self) -> Iterator[None]:
        """Serialize publishers (two runs finishing together), not readers."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def update(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with a copy of the warehouse attached as ``wh``; on success the
        copy replaces the warehouse in one rename, on error it is thrown away."""
        with self._publish_lock():
            tmp = self.path.with_name(f"{self.path.name}.publishing-{os.getpid()}")
            tmp.unlink(missing_ok=True)
            options = ""
            # a file of a newer format (written before the format was fixed) is rebuilt
            earlier = self.path.exists() and storage_number(self.path) != STORAGE_NUMBER
            if self.path.exists() and not earlier:
                shutil.copyfile(self.path, tmp)
            else:
                options = f" (STORAGE_VERSION '{STORAGE_VERSION}')"
            try:
                conn = duckdb.connect()
                try:
                    # no progress bar on the run's output for long statements
                    conn.execute("SET enable_progress_bar = false")
                    # rows in any order: DuckDB then writes them to the file during the
                    # insert; keeping the order left 8.5 s of writing to the checkpoint
                    # (publish at scale 1.0: 12.5 s against 21 s, 263 MB against 405 MB)
                    conn.execute("SET preserve_insertion_order = false")
                    conn.execute(f"ATTACH '{tmp}' AS wh{options}")
                    if earlier:
                        conn.execute(f"ATTACH '{self.path}' AS earlier (READ_ONLY)")
                        conn.execute("COPY FROM DATABASE earlier TO wh")
                        conn.execute("DETACH earlier")
                    ensure_tables(conn, PUBLISHED_TABLES, "wh")
                    write_provinces(conn)
                    yield conn
                    describe_tables(conn, "wh")  # every table and column, described
                    conn.execute("CHECKPOINT wh")
                    conn.execute("DETACH wh")
                finally:
                    conn.close()
                os.replace(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)

    def publish(
        self, editions: Iterable[int], provenance: pl.DataFrame | None = None
    ) -> dict[str, int]:
        """Replace ``editions`` in the warehouse with their staged tables, atomically, and
        their ``edition_provenance`` with ``provenance`` (none given: no record, so the
        next run recomputes them).

        Returns the warehouse's row count per table after publishing (every table).
        """
        with self.update() as conn:
            return self._replace(conn, sorted(set(editions)), provenance)

    def import_official_lists(
        self, lists: dict[int, OfficialList], reconcile: bool = True
    ) -> dict[str, int]:
        """Replace the official lists of some editions and (``reconcile``) recompute
        ``official_reconciliation``, atomically. The Dagster asset leaves the reconciliation
        to the publish of the designations, which is computed from lists and designations."""
        with self.update() as conn:
            conn.execute("BEGIN")
            with _inside_warehouse(conn):
                for edition, official in sorted(lists.items()):
                    write_official_list(conn, official, edition)
            if reconcile:
                reconcile_official_lists(conn)
            conn.execute("COMMIT")
            return {
                t: conn.execute(f"SELECT count(*) FROM wh.{t}").fetchall()[0][0]
                for t in ("official_villages", "official_towns", "official_reconciliation")
            }

    def _replace(
        self,
        conn: duckdb.DuckDBPyConnection,
        editions: list[int],
        provenance: pl.DataFrame | None,
    ) -> dict[str, int]:
        staged: dict[str, list[str]] = {table: [] for table in WAREHOUSE_TABLES}
        for edition in editions:
            with self.staging(edition) as stg:
                stg.require(WAREHOUSE_TABLES)
                for table in WAREHOUSE_TABLES:
                    staged[table] += [str(f) for f in stg.files(table)]
        conn.execute("BEGIN")
        for table, files in staged.items():
            conn.execute(
                f"DELETE FROM wh.{table} WHERE list_contains($e, edition)", {"e": editions}
            )
            # all editions in one statement: DuckDB writes large batches faster
            conn.execute(f"INSERT INTO wh.{table} BY NAME SELECT * FROM read_parquet({files})")
        # what the editions were computed from, in the same transaction as their rows
        conn.execute(
            "DELETE FROM wh.edition_provenance WHERE list_contains($e, edition)", {"e": editions}
        )
        if provenance is not None:
            conn.register("provenance", provenance.filter(pl.col("edition").is_in(editions)))
            conn.execute("INSERT INTO wh.edition_provenance BY NAME SELECT * FROM provenance")
            conn.unregister("provenance")
        # the first designation may move when any edition is (re)loaded
        conn.execute(
            """
            UPDATE wh.taobao_villages t SET first_edition = f.first_edition
            FROM (SELECT village_code, min(edition) AS first_edition
                  FROM wh.taobao_villages GROUP BY village_code) f
            WHERE t.village_code = f.village_code
            """
        )
        reconcile_official_lists(conn)
        write_reconciliation(conn)
        conn.execute("COMMIT")
        return {
            table: conn.execute(f"SELECT count(*) FROM wh.{table}").fetchall()[0][0]
            for table in PUBLISHED_TABLES
        }

    @contextlib.contextmanager
    def read_only(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published warehouse."""
        if not self.path.exists():
            raise FileNotFoundError(f"no warehouse at {self.path}: run the pipeline first")
        conn = duckdb.connect(str(self.path), read_only=True)
        try:
            yield conn
        finally:
            conn.close()
