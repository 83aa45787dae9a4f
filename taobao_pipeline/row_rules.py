"""The contract's row rules, stated once as Pandera schemas (polars backend).

Schemas validate each row as delivered: CSV values as trimmed text (empty as null), so
that "text where a number belongs" is a rule failure like any other; Parquet columns
in their native type where it fits the field (integers, dates, decimals), which
already satisfies the format rules, so only the value rules apply to them. Each
check's ``error`` is the reason a rejected row carries in ``rejected_rows``. A row that
passed its schema always converts cleanly to the loaded types (``sources.Source.typed``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandera.polars as pa
import polars as pl

from taobao_pipeline.rules import URBAN_RURAL_CODES
from taobao_pipeline.sources import Rule

PLATFORMS = ("taobao", "tmall", "1688", "xianyu", "aliexpress", "fliggy", "hema")

# ASCII digits: the regular expressions' \d also matches other scripts' digits (full-width
# １２ among them), which pass a rule and then do not convert to a number
CODE_12 = r"^[0-9]{12}$"
INTEGER = r"^-?[0-9]{1,18}$"
# DECIMAL(18,2): at most 16 digits before the point and 2 after it
MONEY = r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def _check(rule: Rule, error: str, typed: Rule | None = None) -> pa.Check:
    """A column check: ``rule`` judges text, ``typed`` a natively typed Parquet column
    (by default the native type already satisfies the rule). ``error`` is the reason.

    Empty values pass: whether a column may be empty is its ``nullable`` rule.
    """

    def judge(data: pa.PolarsData) -> pl.LazyFrame:
        column = pl.col(data.key)
        is_text = data.lazyframe.collect_schema()[data.key] == pl.String
        ok = rule(column) if is_text else (typed(column) if typed else pl.lit(True))
        return data.lazyframe.select(ok | column.is_null())

    return pa.Check(judge, error=error)


def _matches(pattern: str, error: str) -> pa.Check:
    return _check(lambda c: c.str.contains(pattern), error)


def _not_negative(column: str) -> pa.Check:
    # signs are read as numbers are: -0 is 0 (the contract)
    return _check(
        lambda c: ~c.str.starts_with("-") | c.str.contains(r"^-0+$"),
        f"{column} is negative",
        lambda c: c >= 0,
    )


def _is_date(column: str) -> pa.Check:
    return _check(
        lambda c: c.str.contains(DATE) & c.str.to_date("%Y-%m-%d", strict=False).is_not_null(),
        f"{column} is not a date YYYY-MM-DD",
    )


def _one_of(accepted: pl.Series, error: str) -> pa.Check:
    """The value is one of ``accepted`` (the keys of the rows accepted upstream).

    Exact, but looked up by a join on 64-bit hashes followed by a comparison of the
    values: for millions of keys polars builds an ``is_in`` set several times slower.
    """
    lookup = accepted.to_frame("_accepted").with_columns(pl.col("_accepted").hash().alias("_hash"))
    if lookup["_hash"].n_unique() < lookup.height:  # a hash collision: take the plain way
        return _check(lambda c: c.is_in(accepted.implode()), error)

    def judge(data: pa.PolarsData) -> pl.LazyFrame:
        value = pl.col(data.key)
        return (
            data.lazyframe.select(value)
            .with_columns(value.hash().alias("_hash"))
            # the rows' order kept by the join (0.8 s for 10M rows against 1.1 s sorted after)
            .join(lookup.lazy(), on="_hash", how="left", maintain_order="left")
            .select(value.is_null() | (value == pl.col("_accepted")).fill_null(False))
        )

    return pa.Check(judge, error=error)


def _outside(months: list[str], rule: Callable[[pl.Series], pl.Series]) -> Rule:
    """A month rule: the window's months (well-formed) pass, and ``rule`` judges only the
    others, a few rows (the regular expression costs 0.26 s per 10M rows; this, 0.1 s)."""

    def judge(values: pl.Series) -> pl.Series:
        in_window = values.is_in(months)
        others = (~in_window).arg_true()
        return in_window.scatter(others, rule(values.gather(others)))

    return lambda c: c.map_batches(judge, return_dtype=pl.Boolean, is_elementwise=True)


def _text(nullable: bool = True, checks: Iterable[pa.Check] = ()) -> pa.Column:
    return pa.Column(None, list(checks), nullable=nullable, required=False)


def village_schema() -> pa.DataFrameSchema:
    """Rules of the village register."""
    return pa.DataFrameSchema(
        {
            "village_code": _text(False, [_matches(CODE_12, "village_code is not 12 digits")]),
            "village_name": _text(False),
            "township_name": _text(),
            "county_name": _text(),
            "prefecture_name": _text(),
            "province_name": _text(),
            "urban_rural_code": _text(
                False,
                [
                    _check(
                        lambda c: c.is_in(URBAN_RURAL_CODES),
                        "urban_rural_code is not one of " + ", ".join(URBAN_RURAL_CODES),
                    )
                ],
            ),
            "households": _text(
                False,
                [
                    _matches(INTEGER, "households is not an integer"),
                    _not_negative("households"),
                ],
            ),
        },
        name="villages",
    )


def _closed_after_opened(data: pa.PolarsData) -> pl.LazyFrame:
    """A shop closes on or after its opening; rows with a missing or malformed date fail
    their own checks, not this one."""
    closed, opened = pl.col("closed_on"), pl.col("opened_on")
    types = data.lazyframe.collect_schema()
    if types["closed_on"] == types["opened_on"] == pl.Date:
        # dates from Parquet compare as they are (casting them to text for the rule below
        # took 0.6 s for 3.9M shops)
        return data.lazyframe.select(closed.is_null() | opened.is_null() | (closed >= opened))
    # ISO dates compare as text
    closed, opened = closed.cast(pl.String), opened.cast(pl.String)
    return data.lazyframe.select(
        closed.is_null()
        | ~closed.str.contains(DATE)
        | ~opened.str.contains(DATE)
        | (closed >= opened)
    )


def shop_schema(village_codes: pl.Series) -> pa.DataFrameSchema:
    """Rules of the shop registry; ``village_codes`` are the accepted villages."""
    return pa.DataFrameSchema(
        {
            "shop_id": _text(False),
            "village_code": _text(
                False,
                [
                    _matches(CODE_12, "village_code is not 12 digits"),
                    _one_of(
                        village_codes, "village_code is not an accepted village of the register"
                    ),
                ],
            ),
            "platform": _text(
                False,
                [
                    _check(
                        lambda c: c.is_in(PLATFORMS),
                        "platform is not one of " + ", ".join(PLATFORMS),
                    )
                ],
            ),
            "opened_on": _text(False, [_is_date("opened_on")]),
            "closed_on": _text(True, [_is_date("closed_on")]),
            "main_category": _text(),
        },
        checks=[pa.Check(_closed_after_opened, error="closed_on is before opened_on")],
        name="shops",
    )


def revenue_schema(months: list[str], shop_ids: pl.Series) -> pa.DataFrameSchema:
    """Rules of monthly sales: ``months`` is the window, ``shop_ids`` the accepted shops."""
    return pa.DataFrameSchema(
        {
            "shop_id": _text(
                False,
                [_one_of(shop_ids, "shop_id is not an accepted shop of the registry")],
            ),
            "month": _text(
                False,
                [
                    _check(
                        _outside(months, lambda v: v.str.contains(MONTH)), "month is not YYYY-MM"
                    ),
                    _check(
                        # a month that is not YYYY-MM fails the rule above, not this one
                        _outside(months, lambda v: ~v.str.contains(MONTH)),
                        f"month is outside the edition's window {months[0]}..{months[-1]}",
                    ),
                ],
            ),
            "gmv_rmb": _text(
                False,
                [
                    _check(
                        lambda c: c.str.contains(MONEY),
                        "gmv_rmb is not a decimal with at most 2 places",
                        lambda c: (c > -(10**16)) & (c < 10**16),  # fits DECIMAL(18,2)
                    )
                ],
            ),
            "orders": _text(
                False,
                [
                    _matches(INTEGER, "orders is not an integer"),
                    _not_negative("orders"),
                ],
            ),
        },
        name="revenue",
    )
