"""The three inputs of an edition, each declared once, as data.

A source states its files, its key, the source its rows refer to, the table it is staged
as, and each column: its type when loaded, whether the header must have it, whether it may
be empty, its row rules (each with the reason a rejected row carries) and its meaning.
From these come the Pandera schemas (``row_rules``), the staged tables (``tables``), the
source assets' descriptions, ``docs/data-dictionary.md`` and the column tables of
``docs/data-contract.md`` (``contract_tables``).

Light on purpose (polars only): the command reads these to find and fingerprint files
without loading Pandera or Dagster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from taobao_pipeline.rules import URBAN_RURAL_CODES

Rule = Callable[[pl.Expr], pl.Expr]  # an expression of a column: a rule, or a parse

PLATFORMS = ("taobao", "tmall", "1688", "xianyu", "aliexpress", "fliggy", "hema")


@dataclass(frozen=True)
class Typed:
    """How a field is loaded: its type, which Parquet types it keeps, how text parses."""

    sql: str  # the staged column's type
    dtype: pl.DataType
    native: Callable[[pl.DataType], bool]
    parse: Rule  # text to the type
    words: str  # as the contract names it

    def load(self, name: str, current: pl.DataType) -> pl.Expr:
        """The expression that gives column ``name`` (now of type ``current``) its type."""
        column = pl.col(name)
        return (self.parse(column) if current == pl.String else column).cast(self.dtype)


def _integer(dtype: pl.DataType) -> bool:
    # UInt64 may hold values above Int64's: as text, the integer rule judges them
    return dtype.is_integer() and dtype != pl.UInt64


TEXT = Typed("VARCHAR", pl.String, lambda t: t == pl.String, lambda c: c, "text")
INTEGER = Typed("BIGINT", pl.Int64, _integer, lambda c: c, "BIGINT")
DATE = Typed("DATE", pl.Date, lambda t: t == pl.Date, lambda c: c.str.to_date("%Y-%m-%d"), "DATE")
MONEY = Typed(
    "DECIMAL(18,2)",
    pl.Decimal(18, 2),
    lambda t: t.is_integer() or (isinstance(t, pl.Decimal) and t.scale <= 2),
    lambda c: c.str.to_decimal(scale=2),
    "DECIMAL(18,2)",
)


@dataclass(frozen=True)
class RowRule:
    """A rule each value of a column keeps. ``row_rules`` judges it by its ``kind``;
    ``reason`` is what a rejected row says (``{column}`` and, for the window, ``{first}``
    and ``{last}`` filled in); ``words`` is how the contract states the rule."""

    kind: str
    reason: str
    words: str
    pattern: str | None = None  # kind "pattern"
    values: tuple[str, ...] = ()  # kind "one_of"
    other: str | None = None  # kind "not_before": the column it may not precede
    refers: str | None = None  # kind "accepted": the upstream source

    def says(self, column: str, months: list[str] | None = None) -> str:
        """The reason a row breaking this rule in ``column`` carries."""
        first, last = (months[0], months[-1]) if months else ("<first>", "<last>")
        return self.reason.format(column=column, first=first, last=last, other=self.other)


# ASCII digits: the regular expressions' \d also matches other scripts' digits (full-width
# １２ among them), which pass a rule and then do not convert to a number
CODE_12 = r"^[0-9]{12}$"
INTEGER_TEXT = r"^-?[0-9]{1,18}$"
# DECIMAL(18,2): at most 16 digits before the point and 2 after it
MONEY_TEXT = r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"
DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MONTH_TEXT = r"^[0-9]{4}-(0[1-9]|1[0-2])$"

TWELVE_DIGITS = RowRule("pattern", "{column} is not 12 digits", "12 ASCII digits", CODE_12)
AN_INTEGER = RowRule("pattern", "{column} is not an integer", "an integer", INTEGER_TEXT)
NOT_NEGATIVE = RowRule("not_negative", "{column} is negative", "not negative")
A_DATE = RowRule("date", "{column} is not a date YYYY-MM-DD", "a real date `YYYY-MM-DD`")
A_MONTH = RowRule("month", "{column} is not YYYY-MM", "`YYYY-MM` with a month 01-12")
IN_WINDOW = RowRule(
    "in_window",
    "{column} is outside the edition's window {first}..{last}",
    "inside the edition's window (its own months, e.g. 2019-07..2020-06)",
)
AN_AMOUNT = RowRule(
    "pattern",
    "{column} is not a decimal with at most 2 places",
    "digits with an optional `-` and at most 2 decimals, at most 16 digits before the point "
    "(`10`, `10.5`, `-3.20`; not `+5`, `1e3`, `1,000`, `.5`), negative allowed (a month of "
    "net refunds)",
    MONEY_TEXT,
)


def one_of(values: tuple[str, ...], words: str = "") -> RowRule:
    listed = ", ".join(values)
    return RowRule(
        "one_of", f"{{column}} is not one of {listed}", words or f"one of {listed}", values=values
    )


def accepted(source: str, what: str) -> RowRule:
    """The value is the key of a row accepted from ``source`` in the same edition."""
    return RowRule(
        "accepted",
        f"{{column}} is not an accepted {what}",
        f"an accepted {what} of the same edition",
        refers=source,
    )


def not_before(other: str) -> RowRule:
    return RowRule(
        "not_before",
        "{column} is before {other}",
        f"the same day as `{other}` or later",
        other=other,
    )


@dataclass(frozen=True)
class Field:
    """One column of a source."""

    name: str
    description: str
    type: Typed = TEXT
    rules: tuple[RowRule, ...] = ()
    nullable: bool = False  # may be empty
    required: bool = True  # the header must have it (else the column is optional)


@dataclass(frozen=True)
class Source:
    """One kind of input file."""

    name: str
    description: str  # what its file holds
    fields: tuple[Field, ...]
    key: tuple[str, ...]
    staged_as: str  # the staging table its accepted rows go to
    noun: str  # "a village row"
    parts: bool = False  # one file, or one or several parts read as one extract
    staged_note: str = ""  # how the staged table differs from the rows, if it does

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required) + self.optional

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if not f.required)

    @property
    def typed(self) -> dict[str, Typed]:
        """The fields loaded as another type than text."""
        return {f.name: f.type for f in self.fields if f.type is not TEXT}

    @property
    def refers(self) -> dict[str, str]:
        """column -> the upstream source whose accepted key it must be."""
        return {f.name: r.refers for f in self.fields for r in f.rules if r.refers}

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def stem(self) -> str:
        """The file name's stem: ``villages``, or ``revenue*`` for parts."""
        return f"{self.name}*" if self.parts else self.name

    def owns(self, path: Path) -> bool:
        """Whether ``path``'s name is one of this source's files (parts: any name starting
        so; else the stem exactly, before an extension)."""
        if self.parts:
            return path.name.startswith(self.name)
        return path.name.split(".")[0] == self.name and "." in path.name


_VILLAGE_CODE = "12-digit statistical division code of the village-level unit"
_SHOP_ID = "Shop identifier on the platform"

VILLAGES = Source(
    name="villages",
    description="the village register in force for the edition",
    key=("village_code",),
    staged_as="villages",
    noun="village",
    fields=(
        Field(
            "village_code",
            _VILLAGE_CODE,
            rules=(TWELVE_DIGITS,),
        ),
        Field("village_name", "Village name from the register"),
        Field(
            "township_name",
            "Township name (most common spelling in the register)",
            nullable=True,
        ),
        Field("county_name", "County name from the register", nullable=True),
        Field("prefecture_name", "Prefecture name from the register", nullable=True),
        Field("province_name", "Province name from the register", nullable=True),
        Field(
            "urban_rural_code",
            "Urban-rural classification code (111 ... 220)",
            rules=(one_of(URBAN_RURAL_CODES),),
        ),
        Field(
            "households",
            "Households in the village",
            INTEGER,
            rules=(AN_INTEGER, NOT_NEGATIVE),
        ),
    ),
)
SHOPS = Source(
    name="shops",
    description="the shop registry as it stood at the cut-off date",
    key=("shop_id",),
    staged_as="shops",
    noun="shop",
    fields=(
        Field("shop_id", _SHOP_ID),
        Field(
            "village_code",
            _VILLAGE_CODE,
            rules=(TWELVE_DIGITS, accepted("villages", "village of the register")),
        ),
        Field(
            "platform",
            ", ".join(PLATFORMS[:-1]) + " or " + PLATFORMS[-1],
            rules=(one_of(PLATFORMS, "exactly one of " + ", ".join(PLATFORMS) + " (lower case)"),),
        ),
        Field("opened_on", "Date the shop opened", DATE, rules=(A_DATE,)),
        Field(
            "closed_on",
            "Date the shop closed; empty while open",
            DATE,
            rules=(A_DATE, not_before("opened_on")),
            nullable=True,
        ),
        Field(
            "main_category",
            "Main product category (optional)",
            nullable=True,
            required=False,
        ),
    ),
)
REVENUE = Source(
    name="revenue",
    description="monthly sales per shop",
    key=("shop_id", "month"),
    staged_as="shop_sales",
    noun="revenue",
    parts=True,
    staged_note="staged summed per shop (its revenue and its recent orders)",
    fields=(
        Field(
            "shop_id",
            _SHOP_ID,
            rules=(accepted("shops", "shop of the registry"),),
        ),
        Field("month", "Month of the sales, YYYY-MM", rules=(A_MONTH, IN_WINDOW)),
        Field("gmv_rmb", "Sales of the shop in the month in RMB, exact", MONEY, rules=(AN_AMOUNT,)),
        Field(
            "orders", "Orders of the shop in the month", INTEGER, rules=(AN_INTEGER, NOT_NEGATIVE)
        ),
    ),
)
SOURCES = {s.name: s for s in (VILLAGES, SHOPS, REVENUE)}
#: each source is judged against the accepted rows of the ones before it
ORDER = tuple(SOURCES)


def contract_table(source: Source) -> str:
    """The contract's column table of ``source`` (docs/data-contract.md), as Markdown."""
    lines = [
        "| column | type when loaded | rule and reason when broken |",
        "| --- | --- | --- |",
    ]
    for f in source.fields:
        if not f.required:
            presence = "optional column; may be empty"
        elif f.nullable:
            presence = "may be empty"
        else:
            presence = "required"
        rules = [f"{r.words}: `{r.says(f.name, _EXAMPLE_WINDOW)}`" for r in f.rules]
        lines.append(f"| `{f.name}` | {f.type.words} | {'; '.join([presence, *rules])} |")
    return "\n".join(lines)


_EXAMPLE_WINDOW = ["2019-07", "2020-06"]  # the window of edition 2020, for the docs


def contract_tables() -> dict[str, str]:
    """Each source's heading and column table, as docs/data-contract.md gives them."""
    return {
        f"### {s.name} ({s.description}); key {' + '.join(f'`{k}`' for k in s.key)}": (
            contract_table(s)
        )
        for s in SOURCES.values()
    }


if __name__ == "__main__":  # the column tables to paste into docs/data-contract.md
    for heading, table in contract_tables().items():
        print(f"{heading}\n\n{table}\n")
