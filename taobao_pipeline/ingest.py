"""Ingesting one source of an edition: read its files, apply the rules, stage the result.

Sources build on each other (shops must point at accepted villages, revenue at
accepted shops), so staging a source clears what was staged downstream of it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl

from taobao_pipeline.budget import MIN_BATCH, batch_rows, held_bytes, memory_budget
from taobao_pipeline.computations import STATEMENTS, sales_window, statement_parameters
from taobao_pipeline.extracts import FILE, ROW, NotUtf8, Ragged, open_extract, source_files
from taobao_pipeline.fingerprints import input_note, note_name
from taobao_pipeline.parts import PART, Parts
from taobao_pipeline.row_rules import schema
from taobao_pipeline.rules import Rules, window
from taobao_pipeline.sources import ORDER, SOURCES
from taobao_pipeline.staging import MONEY_LIMIT, Staging, SumOutOfRange, spill_path
from taobao_pipeline.tables import COMPUTED_TABLES, TABLES
from taobao_pipeline.validation import (
    KEY_HASH,
    REFUSED,
    TYPED,
    Validated,
    _record,
    judge_batch,
    judge_whole,
    split_references,
)


def _schema(stg: Staging, source: str, edition: int, rules: Rules) -> pa.DataFrameSchema:
    """``source``'s rules with the edition's window; its checks of keys accepted upstream
    are judged in SQL over the staged keys (``validation.split_references``), so they are
    built over no keys at all."""
    none = pl.Series([], dtype=pl.String)
    accepted = dict.fromkeys(SOURCES[source].refers, none)
    return schema(SOURCES[source], accepted, window(edition, rules).months)


READERS = 2  # threads reading the files of a source in several (as before the batches)


class _Spill:
    """The most DuckDB has spilled to its temporary folder while watched (polled)."""

    def __init__(self) -> None:
        self.folder = spill_path()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _size(self) -> int:
        if self.folder is None or not self.folder.is_dir():
            return 0
        total = 0
        for f in self.folder.iterdir():
            with contextlib.suppress(OSError):
                total += f.stat().st_blocks * 512
        return total

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self._size())

    def __enter__(self) -> _Spill:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._size())


def _read_and_judge(
    work: Path, paths: list[Path], spec, schema, reference: str | None
) -> tuple[Parts, list[Path], dict[str, int], dict[str, int]]:
    """Phase one: every file read in batches, each batch judged by the schema; the rows
    that passed kept (``Parts``: in memory within the budget's share, else in Parquet
    parts in ``work``), those that failed written to parts in ``work``. Returns them and,
    per file, the rows read and passed.

    A source in several files (revenue) is read by ``READERS`` threads, a file each, with
    batches of ``batch_rows`` shared between them: the budget holds, and the Python parts
    of the judgement (Pandera) run beside polars' (2022 at 1.0, whole run: 42-45 s against
    62 s one file at a time, on a busy machine)."""
    workers = max(1, min(len(paths), READERS, os.cpu_count() or 1))
    rows = max(MIN_BATCH, batch_rows() // workers)
    extracts = {path: open_extract(path, spec, work, rows) for path in paths}
    # a column typed differently in two files is judged as text in all
    text = {
        c for c in spec.columns if len({e.types.get(c, pl.String) for e in extracts.values()}) > 1
    }
    passed = Parts(work, held_bytes())

    def one(i: int, path: Path, extract) -> tuple[list[Path], int, int]:
        # read again, all of it: by the ragged reader if a row is too long, transcoded if
        # a value is not UTF-8 (the ragged reader reads a transcoded copy in any case)
        ragged = transcode = False
        for _ in range(3):
            mine_f: list[Path] = []
            read = passed_rows = 0
            try:
                if ragged or transcode:
                    extract = open_extract(
                        path, spec, work, rows, ragged=ragged, transcode=transcode
                    )
                for n, batch in enumerate(extract.batches()):
                    ok, failed = judge_batch(batch, spec, schema, reference, text)
                    read += batch.height
                    passed_rows += ok.height
                    passed.add(i, n, ok)
                    if failed.height:
                        target = work / f"failed-{i:05d}-{n:06d}-{int(ragged)}.parquet"
                        failed.write_parquet(target, **PART)
                        mine_f.append(target)
            except (Ragged, NotUtf8) as again:
                passed.drop_file(i)
                for part in mine_f:
                    part.unlink()
                ragged = ragged or isinstance(again, Ragged)
                transcode = True
                continue
            return mine_f, read, passed_rows
        raise AssertionError("the ragged reader reads any row")

    try:
        with ThreadPoolExecutor(workers) as pool:
            done = list(pool.map(one, range(len(paths)), paths, extracts.values()))
    except BaseException:
        passed.release()  # what it held counts against the process's share no more
        raise
    failed_parts = [p for mine_f, _, _ in done for p in mine_f]
    read = {path.name: r for path, (_, r, _) in zip(paths, done, strict=True)}
    passed_rows = {path.name: n for path, (_, _, n) in zip(paths, done, strict=True)}
    return passed, failed_parts, read, passed_rows


def ingest_source(
    stg: Staging, raw_dir: Path, edition: int, source: str, rules: Rules
) -> Validated:
    """Validate ``source``'s files of ``edition`` and stage them in ``stg``.

    Rows flow through in batches sized by the memory budget (``budget``); what needs the
    whole source (keys accepted upstream, repeats of a key) is judged by DuckDB over the
    rows that passed (held in memory when they fit the budget's share, else written to a
    work folder: ``parts.Parts``). Everything is read and judged before anything staged
    is touched, so a file-level problem (``ExtractError``) leaves the staging folder as it
    was. The files' SHA-256 (hashed while they are read, or taken
    from the run's plan) are noted beside the staged source.
    """
    spec = SOURCES[source]
    paths = source_files(raw_dir / str(edition), spec)
    schema, references = split_references(_schema(stg, source, edition, rules))
    refers = spec.refers
    upstream = {
        column: (SOURCES[refers[column]].staged_as, column, reason)
        for column, reason in references.items()
    }
    reference = next(iter(references), None)
    stg.folder.mkdir(parents=True, exist_ok=True)
    for stale in stg.folder.glob(".ingest-*"):  # of a run killed (the folder is ours: locked)
        shutil.rmtree(stale, ignore_errors=True)
    work = stg.folder / f".ingest-{source}-{uuid.uuid4().hex}"
    work.mkdir()
    passed = None
    try:
        with ThreadPoolExecutor(1) as hasher:
            fingerprint = hasher.submit(input_note, paths, rules, edition)
            try:
                passed, failed, read, passed_rows = _read_and_judge(
                    work, paths, spec, schema, reference
                )
            finally:
                note = fingerprint.result()
        with _Spill() as spill:
            judge_whole(stg.conn, spec, passed, upstream)
            result = _stage(
                stg, work, spec, edition, rules, paths, passed, failed, read, passed_rows, upstream
            )
        result.spilled = spill.peak
        stg.write_note(f"spill.{source}", {"bytes": spill.peak, "budget": memory_budget()})
        stg.write_note(note_name(source), note)
        return result
    finally:
        if passed is not None:
            passed.release()
        with contextlib.suppress(duckdb.Error):
            stg.conn.execute("DROP TABLE IF EXISTS verdicts")
            stg.conn.execute("DROP TABLE IF EXISTS repeated_hashes")
            stg.conn.execute(f"DROP TABLE IF EXISTS {REFUSED}")
            stg.conn.execute("DROP VIEW IF EXISTS accepted_revenue")
        shutil.rmtree(work, ignore_errors=True)


def _parquet_list(paths: list[Path]) -> str:
    return str([str(p) for p in paths])


def _stage(
    stg: Staging,
    work: Path,
    spec,
    edition: int,
    rules: Rules,
    paths: list[Path],
    passed: Parts,
    failed: list[Path],
    read: dict[str, int],
    passed_rows: dict[str, int],
    upstream: dict[str, tuple[str, str, str]],
) -> Validated:
    """Phase two, once the source is judged: the rejected rows with their reasons and
    records, the audit, then the staged tables replaced."""
    source = spec.name
    conn = stg.conn
    # the records of the rows refused in SQL (a few), picked from their file's rows by
    # polars by their numbers: a join in DuckDB read every column of every passed row
    # (0.6-0.8 s for the shops and sales of 2022 at scale 1.0)
    verdicts = conn.sql(
        f"SELECT {FILE}::VARCHAR AS {FILE}, {ROW}, reason AS _verdict FROM verdicts"
    ).pl()
    verdict_files = dict(verdicts.group_by(FILE).len().iter_rows())
    refused_parts = []
    for i, path in enumerate(paths):
        mine = verdicts.filter(pl.col(FILE) == path.name).drop(FILE)
        if mine.is_empty():
            continue
        rows = (
            passed.lazy(i)
            .filter(pl.col(ROW).is_in(mine[ROW].implode()))
            .collect()
            .join(mine, on=ROW)
            .sort(ROW)
        )
        record = rows.drop(
            [c for c in rows.columns if c.startswith(TYPED) or c in (KEY_HASH, "_verdict")]
        )
        frame = pl.DataFrame(
            {
                "file": record[FILE].cast(pl.String),
                "row_number": record[ROW],
                "reason": rows["_verdict"],
                "record": record.select(_record(record)).to_series(),
            }
        )
        target = work / f"refused-{i:05d}.parquet"
        frame.write_parquet(target)
        refused_parts.append(target)
    checks = []
    if failed and upstream:
        [(column, (table, key, reason))] = upstream.items()
        # the upstream keys among the failed rows' (few) values: a lookup built from all
        # of them took 0.4 s for the 4.4M shops of a national edition
        known = (
            f'SELECT "{key}" FROM {table} WHERE "{key}" IN '
            f"(SELECT ref FROM read_parquet({_parquet_list(failed)}))"
        )
        checks.append(f"CASE WHEN ref IS NOT NULL AND ref NOT IN ({known}) THEN '{reason}' END")
    merged = ", ".join(["nullif(before, '')", *checks, "nullif(after, '')"])
    selects = []
    if failed:
        selects.append(
            f"SELECT file, row_number, concat_ws('; ', {merged}) AS reason, record "
            f"FROM read_parquet({_parquet_list(failed)})"
        )
    if refused_parts:
        selects.append(
            "SELECT file, row_number, reason, record "
            f"FROM read_parquet({_parquet_list(refused_parts)})"
        )
    if not selects:
        selects.append(
            "SELECT NULL::VARCHAR AS file, NULL::BIGINT AS row_number, NULL::VARCHAR AS reason, "
            "NULL::VARCHAR AS record WHERE false"
        )
    rejected_sql = (
        f"SELECT {stg.edition} AS edition, '{source}' AS source, * FROM ("
        + " UNION ALL ".join(selects)
        + ") ORDER BY file, row_number"
    )
    failed_files = (
        dict(
            conn.execute(
                f"SELECT file, count(*) FROM read_parquet({_parquet_list(failed)}) GROUP BY ALL"
            ).fetchall()
        )
        if failed
        else {}
    )
    audit = pl.DataFrame(
        [
            {
                "source": source,
                "file": path.name,
                "rows_read": read[path.name],
                "rows_accepted": passed_rows[path.name] - verdict_files.get(path.name, 0),
                "rows_rejected": failed_files.get(path.name, 0) + verdict_files.get(path.name, 0),
            }
            for path in paths
        ],
        schema={
            "source": pl.Utf8,
            "file": pl.Utf8,
            "rows_read": pl.Int64,
            "rows_accepted": pl.Int64,
            "rows_rejected": pl.Int64,
        },
    )
    unbalanced = audit.filter(
        pl.col("rows_read") != pl.col("rows_accepted") + pl.col("rows_rejected")
    )
    if unbalanced.height:
        raise RuntimeError(f"rows lost while validating {source}:\n{unbalanced}")
    columns = ", ".join(
        f'"{TYPED + c}" AS "{c}"' if c in spec.typed else f'"{c}"' for c in spec.columns
    )
    accepted = (
        f"SELECT {FILE}, {ROW}, {columns} "
        f"FROM {passed.sql(conn)} "
        f"ANTI JOIN verdicts USING ({FILE}, {ROW})"
        if passed
        else None
    )
    # no note while the source is restaged: a failure between leaves it unrecorded
    stg.remove_note(note_name(source))
    later = ORDER[ORDER.index(source) + 1 :]
    stg.remove([SOURCES[s].staged_as for s in later] + list(COMPUTED_TABLES))
    for s in later:
        stg.remove(["rejected_rows", "load_audit"], source=s)
    # the audit goes last: a source with an audit part is staged whole
    stg.remove(["load_audit"], source=source)
    if source == "revenue":
        _stage_sales(stg, accepted, edition, rules, paths)
    elif accepted is None:
        stg.write_frame(
            source,
            pl.DataFrame(schema={c: pl.String for c in spec.columns}).with_columns(
                pl.col(n).cast(t.dtype) for n, t in spec.typed.items()
            ),
        )
    else:
        stg.write_frame(source, _accepted_rows(conn, spec, paths, passed))
    stg.write("rejected_rows", rejected_sql, source=source)
    stg.write_frame("load_audit", audit, source)
    rejected = conn.execute(
        "SELECT reason, count(*) FROM rejected_rows WHERE source = $s GROUP BY ALL",
        {"s": source},
    ).fetchall()
    return Validated(audit=audit, by_reason=dict(rejected))


def _accepted_rows(
    conn: duckdb.DuckDBPyConnection, spec, paths: list[Path], passed: Parts
) -> pl.LazyFrame:
    """The rows that passed, less those refused in SQL (``verdicts``), in the files' order
    of rows, as the staged table's columns: polars scans them in order and drops the
    few refused rows by their row numbers, streaming. (DuckDB's anti join with the
    verdicts loses the order: sorted back, the 17.6M shops of 2022 at scale 4 took 21.8 s,
    8.8 s unsorted; this takes 7.9 s, in the same order.)"""
    refused = dict(
        conn.execute(f"SELECT {FILE}, list({ROW}) FROM verdicts GROUP BY ALL").fetchall()
    )
    declared = TABLES[spec.staged_as].polars_schema()
    frames = []
    for i in passed.files():
        rows = passed.lazy(i)
        mine = refused.get(paths[i].name)
        if mine:
            rows = rows.filter(~pl.col(ROW).is_in(pl.Series(mine, dtype=pl.Int64).implode()))
        frames.append(
            rows.select(
                pl.col(TYPED + c if c in spec.typed else c).cast(declared[c]).alias(c)
                for c in spec.columns
            )
        )
    return pl.concat(frames)


def _stage_sales(
    stg: Staging, accepted: str | None, edition: int, rules: Rules, paths: list[Path]
) -> None:
    """Stage the accepted sales summed per shop (``shop_sales``)."""
    if accepted is None:
        accepted = (
            f"SELECT NULL::VARCHAR AS {FILE}, NULL::BIGINT AS {ROW}, NULL::VARCHAR AS shop_id, "
            "NULL::VARCHAR AS month, NULL::DECIMAL(18,2) AS gmv_rmb, NULL::BIGINT AS orders "
            "WHERE false"
        )
    stg.conn.execute(f"CREATE OR REPLACE TEMP VIEW accepted_revenue AS {accepted}")
    sql = STATEMENTS["shop_sales"].sql
    try:
        stg.write("shop_sales", sql, statement_parameters("shop_sales", edition, rules))
    except SumOutOfRange:
        # the write refuses a sum beyond the type; a second pass names the shops (only
        # then: it costs 0.4 s for the 11.8M sales rows of a national edition)
        named = _oversized_sales(stg, edition, paths)
        if named:
            raise SumOutOfRange(named) from None
        raise
    finally:
        stg.conn.execute("DROP VIEW IF EXISTS accepted_revenue")
    stg.write_note("shop_sales", sales_window(edition, rules))


def _oversized_sales(stg: Staging, edition: int, paths: list[Path]) -> str | None:
    """What to say of the shops whose sales sum beyond DECIMAL(18,2), if any.

    Each amount passed its rule, so no row is to blame: rejecting some would change the
    shop's revenue silently; the edition fails instead, for a person to check them."""
    over = stg.conn.execute(
        "SELECT shop_id, sum(gmv_rmb) AS total FROM accepted_revenue GROUP BY shop_id "
        f"HAVING abs(sum(gmv_rmb)) > {MONEY_LIMIT} ORDER BY shop_id LIMIT 6"
    ).fetchall()
    if not over:
        return None
    shops = ", ".join(f"{shop} ({total})" for shop, total in over[:5])
    more = " and more" if len(over) > 5 else ""
    files = ", ".join(p.name for p in paths)
    return (
        f"edition {edition}, revenue ({files}): the sales of shop {shops}{more} sum beyond "
        f"DECIMAL(18,2) (at most {MONEY_LIMIT})"
    )


def rejected_by_reason(result: Validated) -> dict[str, int]:
    """Rejected row counts per reason, most frequent first."""
    return dict(sorted(result.by_reason.items(), key=lambda item: -item[1]))
