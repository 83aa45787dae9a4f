"""What a published edition was computed from, and which editions a run can skip.

An edition's **fingerprint** is its input files (name, size, SHA-256 of the content), the
rules in force for it (``Rules.for_edition``, as JSON) and the code version (the package
version and a digest of the pipeline's source and SQL files and of the computing libraries'
versions, so any edit or upgrade counts). The publish records it in ``edition_provenance``
(one row per edition x input file, gathered from the staging notes by
``Warehouse.staged_provenance``), in the transaction that replaces the edition's tables.
Before running, ``plan`` compares each requested edition's fingerprint with that record: an
edition that matches in every part is skipped. Contents are hashed, never judged by size or
modification time, so a file rewritten with the same size and time still counts as changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb
import polars as pl

from taobao_pipeline.editions import describe_editions
from taobao_pipeline.extracts import ExtractError, source_files
from taobao_pipeline.rules import Rules
from taobao_pipeline.sources import SOURCES
from taobao_pipeline.tables import TABLES

PACKAGE_DIR = Path(__file__).resolve().parent
CODE_SUFFIXES = (".py", ".sql")
LIBRARIES = ("duckdb", "polars", "pandera", "pyarrow")  # what reads, judges and computes
CHUNK = 1 << 20  # hashlib releases the GIL on large updates: threads hash in parallel

# A file's digest, by its identity and the stat taken before hashing it. ctime moves on any
# write (os.utime cannot set it back), so a file changed since is hashed again; the planner
# and the ingest of one CLI run (one process) hash each file once.
_DIGESTS: dict[tuple[str, int, int, int, int, int], str] = {}
_DIGESTS_LOCK = threading.Lock()


def _stat_key(path: Path) -> tuple[str, int, int, int, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, streamed; once per process while it is unchanged."""
    key = _stat_key(path)
    with _DIGESTS_LOCK:
        known = _DIGESTS.get(key)
    if known is None:
        sha = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                sha.update(chunk)
        known = sha.hexdigest()
        with _DIGESTS_LOCK:
            _DIGESTS[key] = known
    return known, key[3]


def input_files(raw_dir: Path, edition: int) -> list[Path]:
    """The edition's input files (register, registry, every revenue part); raises
    ``ExtractError`` when one cannot be found, as the ingest would."""
    folder = raw_dir / str(edition)
    return [p for spec in SOURCES.values() for p in source_files(folder, spec)]


def digests(paths: Iterable[Path]) -> dict[Path, tuple[str, int]]:
    """``file_digest`` of several files, two at a time (reading and hashing overlap)."""
    paths = list(paths)
    with ThreadPoolExecutor(max(1, min(len(paths), os.cpu_count() or 1))) as pool:
        return dict(zip(paths, pool.map(file_digest, paths), strict=True))


def rules_json(rules: Rules, edition: int) -> str:
    """The thresholds and cut-off in force for ``edition``, as canonical JSON."""
    fields = dataclasses.asdict(rules.for_edition(edition))
    del fields["overrides"]  # applied above
    return json.dumps(fields, sort_keys=True, default=str)


def code_digest(root: Path = PACKAGE_DIR) -> str:
    """``<package version>+<digest>`` of every source and SQL file under ``root`` (but the
    generator's, a separate part) and of the versions of the libraries that compute (a new
    DuckDB could round or read differently): an edit to any of them, or an upgrade, is a
    new code version."""
    return f"{_version('taobao-pipeline')}+{_source_digest(root)}"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "0"


@functools.cache
def _source_digest(root: Path) -> str:
    sha = hashlib.sha256()
    for package in LIBRARIES:
        sha.update(f"{package}=={_version(package)}\0".encode())
    files = sorted(
        p
        for p in root.rglob("*")
        if p.suffix in CODE_SUFFIXES
        and not {"__pycache__", "generator"} & set(p.relative_to(root).parts)
    )
    for path in files:
        sha.update(str(path.relative_to(root)).encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


# --- the record: staged by each ingest, published as edition_provenance -----------------


def computed_under(rules: Rules, edition: int) -> dict[str, object]:
    """The rules and code version a step runs under (as noted in staging)."""
    return {"rules": rules_json(rules, edition), "code_version": code_digest()}


def input_note(paths: Iterable[Path], rules: Rules, edition: int) -> dict[str, object]:
    """What an ingest staged a source from: each file's name, SHA-256 and size, with the
    rules and code version it ran under (``Staging.write_note``)."""
    found = digests(paths)
    return {
        "files": [{"file": p.name, "sha256": s, "bytes": n} for p, (s, n) in found.items()],
        **computed_under(rules, edition),
    }


def note_name(source: str) -> str:
    """The staging note in which a source's input fingerprints are recorded."""
    return f"inputs.{source}"


PROVENANCE_SCHEMA = TABLES["edition_provenance"].polars_schema()
# the file of the provenance row of a withdrawal (kept when the edition is published again)
WITHDRAWN = "(withdrawn)"


def provenance_rows(
    edition: int,
    inputs: dict[str, dict[str, object] | None],
    rules: Rules,
    run_id: str,
    published_at: dt.datetime,
) -> list[dict[str, object]]:
    """``edition_provenance`` rows of an edition about to be published, from the staging
    notes of its sources (``inputs``). When a note is missing, or says other rules or code
    than the publishing step's (the ingest materialized apart, under another
    configuration), the files get no digest: the edition then never matches, and the next
    run recomputes it (a wrong skip is worse than a rerun)."""
    now = computed_under(rules, edition)
    same = all(
        note is not None and all(note.get(k) == v for k, v in now.items())
        for note in inputs.values()
    )
    rows = []
    for source in SOURCES:
        note = inputs.get(source)
        if not note:
            rows.append({"file": f"({source}: not recorded)", "sha256": None, "bytes": None})
            continue
        for f in note["files"]:  # type: ignore[union-attr]
            rows.append({**f, "sha256": f["sha256"] if same else None})
    return [
        {"edition": edition, **row, **now, "run_id": run_id, "published_at": published_at}
        for row in rows
    ]


# --- the plan: which requested editions must run ----------------------------------------


@dataclass
class Plan:
    """The requested editions split into those to run (with why) and those to skip."""

    run: dict[int, str] = field(default_factory=dict)  # edition -> reason
    skipped: list[int] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Lines for the user: what is skipped, what runs and why."""
        lines = []
        if self.skipped:
            lines.append(
                f"Skipped (unchanged since published: input files, rules and code): "
                f"{describe_editions(self.skipped)}"
            )
        reasons: dict[str, list[int]] = {}
        for edition, reason in sorted(self.run.items()):
            reasons.setdefault(reason, []).append(edition)
        if self.skipped:  # with nothing skipped, every edition runs: no need to say why
            for reason, eds in reasons.items():
                lines.append(f"Running {describe_editions(eds)}: {reason}")
        return lines


def published_provenance(warehouse: Path, editions: list[int]) -> pl.DataFrame:
    """The ``edition_provenance`` rows of ``editions`` in the warehouse (none if absent)."""
    empty = pl.DataFrame(schema=PROVENANCE_SCHEMA)
    if not warehouse.exists():
        return empty
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        present = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'edition_provenance'"
        ).fetchall()[0][0]
        if not present:
            return empty
        return conn.sql(
            "SELECT * FROM edition_provenance WHERE list_contains($e, edition)",
            params={"e": editions},
        ).pl()
    finally:
        conn.close()


def _why_not_files(published: pl.DataFrame, rules: Rules, edition: int) -> str | None:
    """Why ``edition`` must run whatever its files hold, or None."""
    if published.is_empty():
        return "new (no edition_provenance record)"
    if (published["file"] == WITHDRAWN).any():
        return "withdrawn"
    if published["sha256"].is_null().any():
        return "its record is incomplete"
    if published["code_version"].n_unique() > 1 or published["code_version"][0] != code_digest():
        return "code changed"
    if published["rules"].n_unique() > 1 or published["rules"][0] != rules_json(rules, edition):
        return "rules changed"
    return None


def _changed_files(published: pl.DataFrame, paths: list[Path]) -> str | None:
    then = {r["file"]: (r["sha256"], r["bytes"]) for r in published.iter_rows(named=True)}
    now = {p.name: file_digest(p) for p in paths}
    changed = sorted(n for n in now.keys() | then.keys() if now.get(n) != then.get(n))
    return f"{', '.join(changed)} changed" if changed else None


def plan(
    raw_dir: Path, warehouse: Path, editions: list[int], rules: Rules, force: bool = False
) -> Plan:
    """Which of ``editions`` must run: those whose fingerprint differs from their record
    in the warehouse (all of them with ``force``)."""
    result = Plan()
    if force:
        result.run = dict.fromkeys(editions, "--force")
        return result
    try:
        records = published_provenance(warehouse, editions)
    except duckdb.IOException:
        # a session holds the file read-write: what was published cannot be read, so
        # everything runs (the publish itself never needs to open the file)
        result.run = dict.fromkeys(editions, "the warehouse is open read-write elsewhere")
        return result
    files: dict[int, list[Path]] = {}
    for edition in editions:
        record = records.filter(pl.col("edition") == edition)
        try:
            paths = input_files(raw_dir, edition)
        except ExtractError:
            result.run[edition] = "input files missing"  # its run fails, naming the file
            continue
        # a withdrawal stays on record after the edition is published again: what the
        # edition was computed from is the rows of its files
        current = record.filter(pl.col("file") != WITHDRAWN)
        withdrawn = current.is_empty() and not record.is_empty()
        reason = "withdrawn" if withdrawn else _why_not_files(current, rules, edition)
        if reason is None:
            files[edition] = paths
        else:
            result.run[edition] = reason
    # only the files that decide: hashed in parallel, once (the run's ingest reuses them)
    digests([p for paths in files.values() for p in paths])
    for edition, paths in files.items():
        record = records.filter((pl.col("edition") == edition) & (pl.col("file") != WITHDRAWN))
        reason = _changed_files(record, paths)
        if reason is None:
            result.skipped.append(edition)
        else:
            result.run[edition] = reason
    return result
