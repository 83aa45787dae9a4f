"""Ingesting one source of an edition: read its files, apply the rules, stage the result.

Sources build on each other (shops must point at accepted villages, revenue at
accepted shops), so staging a source clears what was staged downstream of it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandera.polars as pa
import polars as pl

from taobao_pipeline.computations import STATEMENTS, sales_window, statement_parameters
from taobao_pipeline.extracts import read_extract, source_files
from taobao_pipeline.fingerprints import input_note, note_name
from taobao_pipeline.row_rules import schema
from taobao_pipeline.rules import Rules, window
from taobao_pipeline.sources import ORDER, SOURCES
from taobao_pipeline.staging import MONEY_LIMIT, Staging, SumOutOfRange
from taobao_pipeline.tables import COMPUTED_TABLES
from taobao_pipeline.validation import Validated, validate


def _schema(stg: Staging, source: str, edition: int, rules: Rules) -> pa.DataFrameSchema:
    """``source``'s rules, with the keys accepted upstream and the edition's window."""
    refers = SOURCES[source].refers
    accepted = {c: stg.column(SOURCES[up].staged_as, c) for c, up in refers.items()}
    return schema(SOURCES[source], accepted, window(edition, rules).months)


def ingest_source(
    stg: Staging, raw_dir: Path, edition: int, source: str, rules: Rules
) -> Validated:
    """Validate ``source``'s files of ``edition`` and stage them in ``stg``.

    Every file is read before anything is written, so a file-level problem
    (``ExtractError``) leaves the staging folder as it was. The files' SHA-256 (hashed
    while they are read, or taken from the run's plan) are noted beside the staged source.
    """
    spec = SOURCES[source]
    paths = source_files(raw_dir / str(edition), spec)
    with ThreadPoolExecutor(1) as hasher:
        fingerprint = hasher.submit(input_note, paths, rules, edition)
        # a national year's revenue comes in a dozen parts: two threads read them in 1.0 s
        # instead of 1.5 s per 10M rows (polars releases the GIL)
        with ThreadPoolExecutor(min(len(paths), os.cpu_count() or 1)) as pool:
            frames = pool.map(lambda path: read_extract(path, spec), paths)
            files = {path.name: frame for path, frame in zip(paths, frames, strict=True)}
        note = fingerprint.result()
    result = validate(files, spec, _schema(stg, source, edition, rules))
    # no note while the source is restaged: a failure between leaves it unrecorded
    stg.remove_note(note_name(source))
    later = ORDER[ORDER.index(source) + 1 :]
    stg.remove([SOURCES[s].staged_as for s in later] + list(COMPUTED_TABLES))
    for s in later:
        stg.remove(["rejected_rows", "load_audit"], source=s)
    # the audit goes last: a source with an audit part is staged whole
    stg.remove(["load_audit"], source=source)
    if source == "revenue":
        _stage_sales(stg, result.accepted, edition, rules, paths)
    else:
        stg.write_frame(source, result.accepted)
    stg.write_frame("rejected_rows", result.rejected, source)
    stg.write_frame("load_audit", result.audit, source)
    stg.write_note(note_name(source), note)
    return result


def _stage_sales(
    stg: Staging, accepted: pl.DataFrame, edition: int, rules: Rules, paths: list[Path]
) -> None:
    """Stage the accepted sales summed per shop (``shop_sales``)."""
    # Arrow's newest layout is polars' own (string views): handed over without a copy,
    # where the default layout converted 9.6M shop ids for 0.4 s
    arrow = accepted.to_arrow(compat_level=pl.CompatLevel.newest())
    stg.conn.register("accepted_revenue", arrow)
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
        stg.conn.unregister("accepted_revenue")
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
    counts = result.rejected.group_by("reason").len().sort("len", descending=True)
    return dict(counts.iter_rows())
