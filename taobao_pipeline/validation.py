"""Applying the row rules to extract files: accepted rows, rejected rows, the audit.

Order, per the contract: each row is judged by its schema (``row_rules``) first; then
keys accepted upstream and repeats of a key are judged among the rows that passed. Every
row read ends up either accepted or rejected with its reason, and the audit proves it.

Rows flow through in batches: each batch of each file is judged by its source's schema
without its checks of keys accepted upstream (``row_rules.REFERENCE``, ``judge_batch``);
the rows that pass are kept, typed (``parts.Parts``); then DuckDB, under the memory
budget, judges over all of them what needs the whole source (``judge_whole``).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandera.polars as pa
import polars as pl
import pyarrow
from pandera.errors import SchemaErrors

from taobao_pipeline.extracts import EXTRA, FILE, ROW
from taobao_pipeline.parts import Parts
from taobao_pipeline.row_rules import REFERENCE
from taobao_pipeline.sources import Source

TOO_LONG = "more fields than the header"


@dataclass
class Validated:
    """The outcome of validating one source of an edition: its rows are staged, not kept
    in memory."""

    audit: pl.DataFrame  # source, file, rows_read, rows_accepted, rows_rejected
    by_reason: dict[str, int]  # rejected rows per reason
    # bytes DuckDB spilled to disk while judging and staging the source
    spilled: int = 0


def _all_converted(text: pl.DataFrame, typed: pl.DataFrame, source: Source) -> None:
    """Every value that passed the rules converted to its type. A value that became null
    would be a gap in the rules, and a sum that silently leaves out money: stop instead."""
    for name in source.typed:
        if typed[name].null_count() == text[name].null_count():
            continue
        lost = text.filter(pl.col(name).is_not_null() & typed[name].is_null())
        rows = ", ".join(
            f"{f} row {r}: {v!r}" for f, r, v in lost.select(FILE, ROW, name).head(5).rows()
        )
        raise RuntimeError(f"{source.name}: {name} passed the rules but did not convert ({rows})")


def _record(frame: pl.DataFrame) -> pl.Expr:
    """The row's values as delivered (trimmed), as JSON."""
    return pl.struct([c for c in frame.columns if c not in (ROW, FILE)]).struct.json_encode()


def _at(height: int, positions: pl.Series) -> pl.Series:
    """A mask of ``height`` rows, true at ``positions``: a scatter, where an ``is_in`` of
    every row's position against them hashed all of them (9.6M for a national edition)."""
    return (
        pl.Series(values=[False], dtype=pl.Boolean)
        .new_from_index(0, height)
        .scatter(positions, True)
    )


def _extra(part: pl.DataFrame) -> pl.Expr:
    """A part's fields beyond its header (see ``extracts.EXTRA``); null if none is."""
    return pl.col(EXTRA) if EXTRA in part.columns else pl.lit(None, pl.Utf8).alias(EXTRA)


def _with_optional(part: pl.DataFrame, source: Source) -> pl.DataFrame:
    missing = [c for c in source.optional if c not in part.columns]
    return part.with_columns(pl.lit(None, pl.Utf8).alias(c) for c in missing)


TYPED = "_t_"  # prefix of a passed part's typed columns (beside the values as delivered)
KEY_HASH = "_key_hash"  # a passed part's 64-bit hash of the row's key, as judged
REFUSED = "refused_upstream"  # judge_whole's table of the rows refused by an upstream check


def split_references(schema: pa.DataFrameSchema) -> tuple[pa.DataFrameSchema, dict[str, str]]:
    """``schema`` without its checks of upstream keys, and those checks' column -> reason."""
    references: dict[str, str] = {}
    for name, column in schema.columns.items():
        kept = [c for c in column.checks if c.name != REFERENCE]
        if len(kept) != len(column.checks):
            references[name] = next(c.error for c in column.checks if c.name == REFERENCE)
            schema = schema.update_column(name, checks=kept)
    return schema, references


def _split_failures(
    frame: pl.DataFrame, schema: pa.DataFrameSchema, reference: str | None
) -> pl.DataFrame:
    """Row position -> its reasons (each check's failures as Pandera reports them, "x is
    empty" for a missing value, ``TOO_LONG`` for a row longer than its header), cut in
    two where the reason of ``reference``'s upstream check belongs: the checks run column
    by column in the schema's order, that check last of its column."""
    position = {name: i for i, name in enumerate(schema.columns)}
    cut = position[reference] if reference else len(position)
    try:
        schema.validate(frame.select(list(schema.columns)), lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        cases = None
    parts = []
    too_long = frame.select(pl.col(EXTRA).is_not_null().arg_true().cast(pl.Int64).alias("index"))
    if not too_long.is_empty():
        parts.append(
            too_long.with_columns(pl.lit(TOO_LONG).alias("reason"), pl.lit(True).alias("before"))
        )
    if cases is not None:
        if cases["index"].null_count():
            raise RuntimeError(f"schema {schema.name} failed as a whole:\n{cases}")
        reason = (
            pl.when(pl.col("check") == "not_nullable")
            .then(pl.col("column") + " is empty")
            .otherwise(pl.col("check"))
        )
        at = pl.col("column").replace_strict(position, default=len(position), return_dtype=pl.Int64)
        parts.append(
            cases.select(
                pl.col("index").cast(pl.Int64), reason.alias("reason"), (at <= cut).alias("before")
            ).unique(["index", "reason"], maintain_order=True)
        )
    if not parts:
        return pl.DataFrame(schema={"index": pl.Int64, "before": pl.Utf8, "after": pl.Utf8})
    return (
        pl.concat(parts)
        .group_by("index", maintain_order=True)
        .agg(
            pl.col("reason").filter(pl.col("before")).str.join("; ").alias("before"),
            pl.col("reason").filter(~pl.col("before")).str.join("; ").alias("after"),
        )
    )


def judge_batch(
    batch: pl.DataFrame,
    source: Source,
    schema: pa.DataFrameSchema,
    reference: str | None,
    text: set[str],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One batch of one file (as ``extracts.Extract.batches`` gives it) judged by
    ``schema`` (without its upstream checks): the rows that passed, as delivered with
    their typed values beside (``TYPED``), and the rows that failed (file, row_number,
    their reasons ``before`` and ``after`` the upstream check of column ``reference``,
    that column's value, the record). ``text``: columns judged as text (typed differently
    in another file of the source)."""
    part = _with_optional(batch, source)
    view = part.select(*source.columns, FILE, ROW, _extra(part)).with_columns(
        pl.col(c).cast(pl.String) for c in text
    )
    failed = _split_failures(view, schema, reference)
    kept = view.filter(~_at(view.height, failed["index"])).drop(EXTRA)
    typed = kept.with_columns(t.load(n, view.schema[n]) for n, t in source.typed.items())
    _all_converted(kept, typed, source)
    # the key's hash as judged (typed values; text where ``text`` says): equal keys in any
    # batch of any file of the source get equal hashes
    passed = part.filter(~_at(part.height, failed["index"])).hstack(
        typed.select(
            *(pl.col(n).alias(TYPED + n) for n in source.typed),
            pl.struct(list(source.key)).hash().alias(KEY_HASH),
        )
    )
    bad = part[failed["index"]]
    ref = view[reference][failed["index"]].cast(pl.String) if reference else None
    refused = bad.select(
        pl.col(FILE).cast(pl.String).alias("file"),
        pl.col(ROW).alias("row_number"),
        pl.lit(failed["before"]).alias("before"),
        pl.lit(failed["after"]).alias("after"),
        (pl.lit(ref) if ref is not None else pl.lit(None, pl.String)).alias("ref"),
        _record(bad).alias("record"),
    )
    return passed, refused


def _quoted(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _repeated_hashes(conn: duckdb.DuckDBPyConnection, passed: Parts) -> str:
    """The name of a temporary table of the key hashes that repeat among ``passed``: a
    superset of the repeated keys. Sorted in memory (numpy, in place: 8 bytes a row, and
    1 for the comparison) when that fits the batches' share of the budget (``Parts.limit``),
    which phase one's batches have let go of; else grouped by DuckDB, out of core. 2022 at
    scale 4, 38.6M sales: 1.2-1.4 s against 2.9-3.1 s for DuckDB's grouping of them; at
    scale 1.0, 9.6M: 0.20 s (DuckDB 0.8-1.1 s, hashing the keys themselves 1.6 s)."""
    rows = passed.rows()
    if rows * 9 <= passed.limit:
        hashes = passed.array(KEY_HASH, np.uint64)
        hashes.sort()
        repeated = np.unique(hashes[1:][hashes[1:] == hashes[:-1]])
        del hashes
        conn.register("_repeated", pyarrow.table({KEY_HASH: repeated}))
        try:
            conn.execute("CREATE OR REPLACE TEMP TABLE repeated_hashes AS FROM _repeated")
        finally:
            conn.unregister("_repeated")
    else:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE repeated_hashes AS "
            f"SELECT {KEY_HASH} FROM {passed.sql(conn)} GROUP BY ALL HAVING count(*) > 1"
        )
    return "repeated_hashes"


def judge_whole(
    conn: duckdb.DuckDBPyConnection,
    source: Source,
    passed: Parts,
    references: dict[str, tuple[str, str, str]],
) -> None:
    """Judge in DuckDB, over every passed row of the source (``passed``), what needs the
    whole source; leaves the temporary table ``verdicts`` (_file, _row, reason): rows
    whose key is not accepted upstream (``references``: column -> upstream table, its
    column, the reason), then repeats of the key: a key repeated with identical values
    keeps its first row and rejects the others as duplicates of it; one repeated with
    different values rejects every row of it as a conflicting repeat."""
    key = list(source.key)
    values = [TYPED + c if c in source.typed else c for c in source.columns]
    value_names = [c for c in source.columns]
    rows = (
        f"SELECT {FILE}, {ROW}, {KEY_HASH}, "
        + ", ".join(f'"{v}" AS "{n}"' for v, n in zip(values, value_names, strict=True))
        + (f" FROM {passed.sql(conn)}" if passed else "")
    )
    if not passed:
        rows = (
            f"SELECT NULL::VARCHAR AS {FILE}, NULL::BIGINT AS {ROW}, NULL::UBIGINT AS {KEY_HASH}, "
            + ", ".join(f'NULL AS "{n}"' for n in value_names)
            + " WHERE false"
        )
    # the rows whose key is not accepted upstream, in a table: one join of every passed
    # row with the upstream keys (2022 at scale 4, the 38.6M sales against 17.6M shops:
    # 6.3 s for all the rules where a second join, of the rows of a repeated hash, took 6.7)
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {REFUSED} AS "
        + " UNION ALL ".join(
            [
                f"SELECT {FILE}, {ROW}, NULL::VARCHAR AS reason FROM ({rows}) p WHERE false",
                *(
                    f"SELECT {FILE}, {ROW}, '{reason}' FROM ({rows}) p "
                    f'WHERE "{column}" NOT IN (SELECT "{upstream}" FROM {table})'
                    for column, (table, upstream, reason) in references.items()
                ),
            ]
        )
    )
    ok = f"SELECT * FROM ({rows}) p ANTI JOIN {REFUSED} USING ({FILE}, {ROW})"
    key_text = " ".join(key)
    k = _quoted(key)
    # the keys' 64-bit hashes (taken as each batch was judged) are counted, and only the
    # rows of a repeated hash not refused upstream (a superset of the repeated keys among
    # the rows accepted upstream) are compared in full
    suspect = _repeated_hashes(conn, passed)
    repeats = f"""
        WITH ok AS (
            SELECT * EXCLUDE ({KEY_HASH}) FROM ({ok}) o
            WHERE {KEY_HASH} IN (SELECT {KEY_HASH} FROM {suspect})
        ),
        repeated AS (SELECT {k} FROM ok GROUP BY ALL HAVING count(*) > 1),
        rep AS (SELECT * FROM ok SEMI JOIN repeated USING ({k})),
        versions AS (
            SELECT {k}, count(DISTINCT row({_quoted(value_names)})) AS _versions
            FROM rep GROUP BY ALL
        ),
        ranked AS (
            SELECT {FILE}, {ROW}, {k},
                   row_number() OVER w AS _nth,
                   first({FILE} || ' row ' || {ROW}) OVER w AS _first
            FROM rep WINDOW w AS (PARTITION BY {k} ORDER BY {FILE}, {ROW})
        )
        SELECT {FILE}, {ROW},
               CASE WHEN _versions > 1
                    THEN 'conflicting repeat: {key_text} repeated with different values'
                    ELSE 'duplicate: repeats {key_text} of ' || _first || ' with identical values'
               END AS reason
        FROM ranked JOIN versions USING ({k})
        WHERE _versions > 1 OR _nth > 1
    """
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE verdicts AS FROM {REFUSED} UNION ALL FROM ({repeats})"
    )
