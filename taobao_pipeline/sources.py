"""The kinds of input file: each source's columns, key and how its accepted rows are typed.

Light on purpose (polars only): the command reads these to find and fingerprint files
without loading Pandera or Dagster. The row rules themselves are in ``row_rules``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

Rule = Callable[[pl.Expr], pl.Expr]  # an expression of a column: a rule, or a parse


@dataclass(frozen=True)
class Typed:
    """How a field is loaded: its type, which Parquet types it keeps, how text parses."""

    dtype: pl.DataType
    native: Callable[[pl.DataType], bool]
    parse: Rule  # text to the type

    def load(self, name: str, current: pl.DataType) -> pl.Expr:
        """The expression that gives column ``name`` (now of type ``current``) its type."""
        column = pl.col(name)
        return (self.parse(column) if current == pl.String else column).cast(self.dtype)


def _integer(dtype: pl.DataType) -> bool:
    # UInt64 may hold values above Int64's: as text, the integer rule judges them
    return dtype.is_integer() and dtype != pl.UInt64


INTEGER_FIELD = Typed(pl.Int64, _integer, lambda c: c)
DATE_FIELD = Typed(pl.Date, lambda t: t == pl.Date, lambda c: c.str.to_date("%Y-%m-%d"))
MONEY_FIELD = Typed(
    pl.Decimal(18, 2),
    lambda t: t.is_integer() or (isinstance(t, pl.Decimal) and t.scale <= 2),
    lambda c: c.str.to_decimal(scale=2),
)


@dataclass(frozen=True)
class Source:
    """One kind of input file: its columns, key and the typed form of its accepted rows."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    typed: dict[str, Typed]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


VILLAGES = Source(
    name="villages",
    required=(
        "village_code",
        "village_name",
        "township_name",
        "county_name",
        "prefecture_name",
        "province_name",
        "urban_rural_code",
        "households",
    ),
    optional=(),
    key=("village_code",),
    typed={"households": INTEGER_FIELD},
)
SHOPS = Source(
    name="shops",
    required=("shop_id", "village_code", "platform", "opened_on", "closed_on"),
    optional=("main_category",),
    key=("shop_id",),
    typed={"opened_on": DATE_FIELD, "closed_on": DATE_FIELD},
)
REVENUE = Source(
    name="revenue",
    required=("shop_id", "month", "gmv_rmb", "orders"),
    optional=(),
    key=("shop_id", "month"),
    typed={"gmv_rmb": MONEY_FIELD, "orders": INTEGER_FIELD},
)
SOURCES = {s.name: s for s in (VILLAGES, SHOPS, REVENUE)}
