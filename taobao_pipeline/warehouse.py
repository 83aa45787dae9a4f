"""The warehouse file and each edition's staging folder.

Runs never write the file analysts read. Each edition is built in its own staging
folder (``staging``); publishing copies the warehouse, replaces the editions' rows in one
transaction, and renames the copy over the warehouse. So a failed load leaves the
warehouse as it was, an analyst's open read-only session keeps its snapshot (the
old file stays alive until closed), and a run never waits for a reader's lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import struct
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from taobao_pipeline.budget import duckdb_limit
from taobao_pipeline.fingerprints import (
    PROVENANCE_SCHEMA,
    WITHDRAWN,
    code_digest,
    note_name,
    provenance_rows,
)
from taobao_pipeline.official_lists import OfficialList
from taobao_pipeline.official_lists_storage import write_official_list
from taobao_pipeline.provinces import write_provinces
from taobao_pipeline.reconciliation import write_official_reconciliation, write_reconciliation
from taobao_pipeline.rules import Rules
from taobao_pipeline.sources import SOURCES
from taobao_pipeline.staging import SPILL, Staging, edition_lock
from taobao_pipeline.tables import (
    EDITION_TABLES,
    PUBLISHED_TABLES,
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


# struct flock of Linux (l_type, l_whence, l_start, l_len, l_pid), for fcntl's lock queries
FLOCK = "hhqqi"
# test-only: "<point>=<file>" makes the publish touch <file> at <point> and wait until the
# file is removed, so that fault-injection tests can kill or starve it exactly there
PAUSE_AT = "TAOBAO_TEST_PAUSE_AT"


# a session that can read the warehouse's tables and nothing else: no file, network or
# extension access (so no ATTACH, COPY TO, read_text, INSTALL), and no SET to undo it
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


@dataclass(frozen=True)
class Published:
    """Row counts of the warehouse a publish wrote: per table, and per table with an
    edition column, per edition of the publish; and the publish's editions against the
    published record, as the publish reconciled them (``reconciliation``'s rows)."""

    rows: dict[str, int]
    per_edition: dict[str, dict[int, int]]
    reconciliation: pl.DataFrame


class WarehouseBusy(Exception):
    """The warehouse file cannot be replaced now; nothing was published."""


def _pause(point: str) -> None:
    """Wait at ``point`` of the publish if a test asked to (see ``PAUSE_AT``)."""
    name, _, flag = os.environ.get(PAUSE_AT, "").partition("=")
    if name != point or not flag:
        return
    Path(flag).touch()
    while Path(flag).exists():
        time.sleep(0.02)


@contextlib.contextmanager
def _inside_warehouse(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Make ``wh`` the current database (the official lists' SQL names tables unqualified)."""
    conn.execute("USE wh")
    try:
        yield
    finally:
        conn.execute("USE memory")


def _derive(conn: duckdb.DuckDBPyConnection) -> None:
    """What follows from the editions in the warehouse, after some were replaced or
    removed: the first designation of each village and the reconciliations."""
    conn.execute(
        """
        UPDATE wh.taobao_villages t SET first_edition = f.first_edition
        FROM (SELECT village_code, min(edition) AS first_edition
              FROM wh.taobao_villages GROUP BY village_code) f
        WHERE t.village_code = f.village_code
        """
    )
    with _inside_warehouse(conn):
        write_official_reconciliation(conn)
    write_reconciliation(conn)


class NotPublished(Exception):
    """The edition named is not in the warehouse."""


class Warehouse:
    """The published warehouse file and the editions' staging folders beside it."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # the warehouse's own: two warehouses in one folder never share staged editions
        self.staging_dir = self.path.with_name(self.path.name + ".staging")

    def staging_path(self, edition: int) -> Path:
        return self.staging_dir / str(edition)

    @contextlib.contextmanager
    def staging(self, edition: int) -> Iterator[Staging]:
        """``edition``'s staged tables (see ``staging.Staging``), held while in use: two
        runs of one edition take turns at least step by step (see ``hold`` for whole runs)."""
        with edition_lock(self.staging_path(edition)):
            staged = Staging(self.staging_path(edition), edition)
            try:
                yield staged
            finally:
                staged.close()

    @contextlib.contextmanager
    def hold(self, editions: Iterable[int]) -> Iterator[None]:
        """Hold the editions' staging (in order of edition, before the publish lock: every
        holder takes them in that order, so none waits for another in a circle). A run
        holds its editions from its first step to its publish, so that two runs of one
        edition take turns instead of clearing each other's staged tables. Removes what
        dead writers left, in staging and beside the warehouse."""
        with contextlib.ExitStack() as held:
            for edition in sorted(set(editions)):
                held.enter_context(edition_lock(self.staging_path(edition)))
            self.remove_leftovers()
            yield

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

    def remove_leftovers(self) -> None:
        """Remove what killed publishes left (under the publish lock: no live writer's).
        Done when a run starts, skipping or not: left until the next publish, full copies
        could fill the disk so that runs fail before they get there."""
        with self._publish_lock():
            self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        """Remove the temporary copies of the warehouse (and their DuckDB logs) left by
        publishes that were killed; only called under the publish lock, so none is a live
        writer's."""
        for leftover in self.path.parent.glob(f"{self.path.name}.publishing-*"):
            leftover.unlink(missing_ok=True)

    def foreign_writer(self) -> int | None:
        """The PID of a process holding the warehouse open read-write, if any (DuckDB
        holds a POSIX write lock on the file). An open file description lock is asked,
        so that closing it leaves this process's own DuckDB locks alone."""
        query = getattr(fcntl, "F_OFD_GETLK", None)  # Linux only: elsewhere, unnamed
        if query is None:
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            probe = struct.pack(FLOCK, fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)
            kind, _, _, _, pid = struct.unpack(FLOCK, fcntl.fcntl(fd, query, probe))
        finally:
            os.close(fd)
        return pid if kind == fcntl.F_WRLCK else None

    def _check_live_file(self) -> None:
        """Refuse to publish over changes a foreign session holds in its log (the
        ``.wal`` beside the file): the rename would leave them to be replayed on the
        new file. A foreign read-write session without changes keeps its snapshot."""
        wal = self.path.with_name(self.path.name + ".wal")
        if not wal.exists():
            return
        writer = self.foreign_writer()
        holder = f"a DuckDB session (PID {writer})" if writer else "a DuckDB session"
        raise WarehouseBusy(
            f"{self.path}: {holder} wrote to the warehouse outside the pipeline and its "
            f"changes are still in {wal.name}; nothing was published. Close that session "
            "(or open the file once with DuckDB and close it, to apply the log), or delete "
            f"{wal.name} to discard those changes, then run again."
        )

    @contextlib.contextmanager
    def update(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with a copy of the warehouse attached as ``wh``; on success the
        copy replaces the warehouse in one rename, on error it is thrown away.

        The copy's name is unique to this publish (not the PID: in a container every run
        may be PID 1, and a killed run's DuckDB log would be replayed by the next one), and
        the copies and logs of killed publishes are removed before anything else.
        """
        with self._publish_lock():
            self._remove_leftovers()
            self._check_live_file()
            tmp = self.path.with_name(f"{self.path.name}.publishing-{uuid.uuid4().hex}")
            created = [tmp, tmp.with_name(tmp.name + ".wal")]
            try:
                _pause("locked")
                options = ""
                # a file of a newer format (written before the format was fixed) is rebuilt
                earlier = self.path.exists() and storage_number(self.path) != STORAGE_NUMBER
                if self.path.exists() and not earlier:
                    shutil.copyfile(self.path, tmp)
                else:
                    options = f" (STORAGE_VERSION '{STORAGE_VERSION}')"
                _pause("copied")
                conn = duckdb.connect()
                try:
                    # no progress bar on the run's output for long statements
                    conn.execute("SET enable_progress_bar = false")
                    # rows in any order: DuckDB then writes them to the file during the
                    # insert; keeping the order left 8.5 s of writing to the checkpoint
                    # (publish at scale 1.0: 12.5 s against 21 s, 263 MB against 405 MB)
                    conn.execute("SET preserve_insertion_order = false")
                    # the memory budget's share, spilling beside the staging area, as the
                    # staging's queries (2022 at scale 4 publishes in 0.5 GB either way)
                    conn.execute(f"SET memory_limit = '{duckdb_limit()}'")
                    conn.execute(f"SET temp_directory = '{self.staging_dir / SPILL}'")
                    conn.execute(f"ATTACH '{tmp}' AS wh{options}")
                    if earlier:
                        conn.execute(f"ATTACH '{self.path}' AS earlier (READ_ONLY)")
                        conn.execute("COPY FROM DATABASE earlier TO wh")
                        conn.execute("DETACH earlier")
                    ensure_tables(conn, PUBLISHED_TABLES, "wh")
                    write_provinces(conn, "wh.provinces")
                    yield conn
                    _pause("committed")
                    describe_tables(conn, "wh")  # every table and column, described
                    conn.execute("CHECKPOINT wh")
                    conn.execute("DETACH wh")
                finally:
                    conn.close()
                _pause("checkpointed")
                self._check_live_file()  # a session may have written meanwhile
                os.replace(tmp, self.path)
                _pause("replaced")
            finally:
                for path in created:
                    path.unlink(missing_ok=True)

    def publish(self, editions: Iterable[int], provenance: pl.DataFrame | None = None) -> Published:
        """Replace ``editions`` in the warehouse with their staged tables, atomically, and
        their ``edition_provenance`` with ``provenance`` (none given: no record, so the
        next run recomputes them).

        Returns the warehouse's row counts after publishing, counted in the publish's
        own connection: nothing else opens the live file.
        """
        editions = sorted(set(editions))
        with self.hold(editions), contextlib.ExitStack() as opened:
            staged = [opened.enter_context(self.staging(edition)) for edition in editions]
            with self.update() as conn:
                return self._insert(conn, editions, staged, provenance)

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
                    write_official_reconciliation(conn)
            conn.execute("COMMIT")
            return {
                t: conn.execute(f"SELECT count(*) FROM wh.{t}").fetchall()[0][0]
                for t in ("official_villages", "official_towns", "official_reconciliation")
            }

    def _insert(
        self,
        conn: duckdb.DuckDBPyConnection,
        editions: list[int],
        staged_editions: list[Staging],
        provenance: pl.DataFrame | None,
    ) -> Published:
        staged: dict[str, list[str]] = {table: [] for table in EDITION_TABLES}
        for stg in staged_editions:
            stg.require(EDITION_TABLES)
            for table in EDITION_TABLES:
                staged[table] += [str(f) for f in stg.files(table)]
        conn.execute("BEGIN")
        for table, files in staged.items():
            conn.execute(
                f"DELETE FROM wh.{table} WHERE list_contains($e, edition)", {"e": editions}
            )
            # all editions in one statement: DuckDB writes large batches faster
            conn.execute(f"INSERT INTO wh.{table} BY NAME SELECT * FROM read_parquet({files})")
        # what the editions were computed from, in the same transaction as their rows
        # (the record of a withdrawal stays: the edition's history)
        conn.execute(
            "DELETE FROM wh.edition_provenance WHERE list_contains($e, edition) "
            "AND file <> $withdrawn",
            {"e": editions, "withdrawn": WITHDRAWN},
        )
        if provenance is not None:
            conn.register("provenance", provenance.filter(pl.col("edition").is_in(editions)))
            conn.execute("INSERT INTO wh.edition_provenance BY NAME SELECT * FROM provenance")
            conn.unregister("provenance")
        _derive(conn)
        conn.execute("COMMIT")
        rows = {
            table: conn.execute(f"SELECT count(*) FROM wh.{table}").fetchall()[0][0]
            for table in PUBLISHED_TABLES
        }
        per_edition = {
            table: dict(
                conn.execute(
                    f"SELECT edition, count(*) FROM wh.{table} "
                    "WHERE list_contains($e, edition) GROUP BY edition",
                    {"e": editions},
                ).fetchall()
            )
            for table, spec in PUBLISHED_TABLES.items()
            if "edition" in spec.names
        }
        reconciled = conn.sql(
            "SELECT * FROM wh.reconciliation WHERE list_contains($e, edition) "
            "ORDER BY edition, measure",
            params={"e": editions},
        ).pl()
        return Published(rows, per_edition, reconciled)

    def withdraw(self, edition: int, reason: str) -> dict[str, int]:
        """Remove ``edition`` from every table in one transaction, and replace its
        ``edition_provenance`` with one row saying so (file ``(withdrawn)``, the reason in
        its note, the code and the time of the withdrawal), beside the rows of its earlier
        withdrawals: they stay on record when the edition is published again. Returns the
        rows removed per table; raises ``NotPublished`` if the edition is not in the
        warehouse."""
        with self.hold([edition]), self.update() as conn:
            conn.execute("BEGIN")
            removed = {
                table: conn.execute(
                    f"DELETE FROM wh.{table} WHERE edition = $e", {"e": edition}
                ).fetchall()[0][0]
                for table in EDITION_TABLES
            }
            rules = conn.execute(
                "SELECT any_value(rules) FROM wh.edition_provenance "
                "WHERE edition = $e AND file <> $withdrawn",
                {"e": edition, "withdrawn": WITHDRAWN},
            ).fetchall()[0][0]
            if not any(removed.values()) and rules is None:
                conn.execute("ROLLBACK")
                raise NotPublished(
                    f"edition {edition} is not in {self.path}: there is nothing to withdraw"
                )
            conn.execute(
                "DELETE FROM wh.edition_provenance WHERE edition = $e AND file <> $withdrawn",
                {"e": edition, "withdrawn": WITHDRAWN},
            )
            conn.execute(
                "INSERT INTO wh.edition_provenance BY NAME SELECT $e AS edition, $f AS file, "
                "$rules AS rules, $code AS code_version, $run AS run_id, $at AS published_at, "
                "$note AS note",
                {
                    "e": edition,
                    "f": WITHDRAWN,
                    "rules": rules or "{}",
                    "code": code_digest(),
                    "run": "taobao-pipeline withdraw",
                    "at": dt.datetime.now(dt.UTC),
                    "note": f"withdrawn; reason: {reason}",
                },
            )
            _derive(conn)
            conn.execute("COMMIT")
            return removed

    def staged_summary(self, editions: Iterable[int]) -> pl.DataFrame:
        """``national_summary`` of ``editions`` as staged, which is what their publish
        wrote: read without opening the warehouse file (a foreign read-write session on it
        would refuse a reader, though the run published)."""
        frames = []
        for edition in sorted(set(editions)):
            with self.staging(edition) as stg:
                frames.append(stg.conn.sql("SELECT * FROM national_summary").pl())
        return pl.concat(frames)

    def staged_provenance(
        self,
        editions: Iterable[int],
        rules: Rules,
        run_id: str,
        notes: dict[int, str] | None = None,
    ) -> pl.DataFrame:
        """``edition_provenance`` of ``editions`` as staged (the notes each ingest left,
        ``fingerprints.provenance_rows``), for ``publish``; ``notes``: what the operator
        overrode for an edition (a failed quality gate)."""
        published_at = dt.datetime.now(dt.UTC)
        rows = []
        for edition in editions:
            with self.staging(edition) as stg:
                inputs = {source: stg.note(note_name(source)) for source in SOURCES}
            note = (notes or {}).get(edition)
            rows += [
                {**row, "note": note}
                for row in provenance_rows(edition, inputs, rules, run_id, published_at)
            ]
        return pl.DataFrame(rows, schema=PROVENANCE_SCHEMA)

    @contextlib.contextmanager
    def read_only(self, sandbox: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published warehouse; with ``sandbox``, one that
        can reach nothing but its tables (for SQL typed by a user, see ``SANDBOX``)."""
        if not self.path.exists():
            raise FileNotFoundError(f"no warehouse at {self.path}: run the pipeline first")
        conn = duckdb.connect(str(self.path), read_only=True, config=SANDBOX if sandbox else {})
        try:
            yield conn
        finally:
            conn.close()
