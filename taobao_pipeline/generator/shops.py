"""The shop registry: shops of planned units, vectorised (no Python loop per shop).

Each planned unit gets ``active`` shops that will be active at the cut-off and a few
inactive ones of four kinds: ``new`` (opened less than 30 days before the cut-off),
``closed`` (closed on or before the cut-off date), ``dormant`` (no order in the last three
months) and ``low`` (two orders over three counted months). Hand-made shops at the
thresholds (:data:`.plan.SPECIAL_SHOPS`) are added with fixed dates and fixed sales rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from .geography import CATEGORIES
from .plan import SPECIAL_SHOPS
from .rng import Stream

KIND_ACTIVE, KIND_NEW, KIND_CLOSED, KIND_DORMANT, KIND_LOW, KIND_SPECIAL = range(6)

PLATFORMS: dict[str, tuple[float, date]] = {
    "taobao": (0.66, date(2003, 5, 10)),
    "tmall": (0.12, date(2008, 4, 10)),
    "1688": (0.09, date(1999, 9, 9)),
    "xianyu": (0.05, date(2014, 6, 1)),
    "aliexpress": (0.05, date(2010, 4, 26)),
    "fliggy": (0.01, date(2016, 10, 27)),
    "hema": (0.02, date(2016, 1, 15)),
}

#: Month weights by calendar month (Double 11, year end, 618, Spring Festival dip).
SEASON = {
    1: 1.1,
    2: 0.7,
    3: 0.9,
    4: 0.95,
    5: 1.0,
    6: 1.3,
    7: 0.9,
    8: 0.9,
    9: 1.0,
    10: 1.05,
    11: 1.9,
    12: 1.3,
}


@dataclass(frozen=True)
class EditionDates:
    """The sales window of an edition (cut-off month June)."""

    edition: int

    @property
    def cutoff(self) -> date:
        """Last day of the cut-off month."""
        return date(self.edition, 6, 30)

    @property
    def months(self) -> list[str]:
        """The 12 window months, YYYY-MM, oldest first."""
        out = []
        for i in range(12):
            m = 7 + i
            y = self.edition - 1 + (m - 1) // 12
            out.append(f"{y:04d}-{(m - 1) % 12 + 1:02d}")
        return out

    def month_index(self, expr: pl.Expr) -> pl.Expr:
        """Window month index (0 = July of the previous year) of a date expression."""
        return (expr.dt.year() - (self.edition - 1)) * 12 + expr.dt.month().cast(pl.Int32) - 7


#: Shop ids: two edition digits and the shop's sequence number scrambled by a bijection of
#: 0..10^8-1 (the multiplier is prime to 10), so ids are unique and look unordered.
_ID_MUL, _ID_ADD, _ID_MOD = 61_803_399, 12_345_678, 100_000_000


def shop_id(edition: int, seq: int) -> str:
    """The id of shop number ``seq`` of an edition (unique within and across editions)."""
    return f"{edition % 100:02d}{(seq * _ID_MUL + _ID_ADD) % _ID_MOD:08d}"


def shop_ids(edition: int, seq: pl.Expr) -> pl.Expr:
    """Vectorised :func:`shop_id`."""
    scrambled = (seq.cast(pl.Int64) * _ID_MUL + _ID_ADD) % _ID_MOD
    return pl.concat_str(pl.lit(f"{edition % 100:02d}"), scrambled.cast(pl.String).str.zfill(8))


def _platform_expr(edition: int, u: pl.Expr) -> pl.Expr:
    cutoff = date(edition, 6, 30)
    avail = {k: p for k, (p, launch) in PLATFORMS.items() if launch <= cutoff - timedelta(days=180)}
    total = sum(avail.values())
    expr: pl.Expr | None = None
    acc = 0.0
    items = list(avail.items())
    for name, p in items[:-1]:
        acc += p / total
        cond = u < acc
        expr = (
            pl.when(cond).then(pl.lit(name)) if expr is None else expr.when(cond).then(pl.lit(name))
        )
    last = pl.lit(items[-1][0])
    return last if expr is None else expr.otherwise(last)


def _launch_expr(platform: pl.Expr) -> pl.Expr:
    return platform.replace_strict({k: v[1] for k, v in PLATFORMS.items()}, return_dtype=pl.Date)


def bulk_shops(units: pl.DataFrame, edition: int, stream: Stream, first_seq: int) -> pl.DataFrame:
    """Shops of a chunk of planned units (sorted by village code), with internal columns.

    ``units`` needs: village_code, category, active, n_new, n_closed, n_dormant, n_low.
    Returns one row per shop with shop_id, village_code, platform, opened_on, closed_on,
    main_category and, for the sales generator, kind, first/last window month, the forced
    month (anchor), the month share ``q``, the weight ``w`` and the price.
    """
    dates = EditionDates(edition)
    cutoff = dates.cutoff
    u = (
        units.with_row_index("unit_idx")
        .select(
            "unit_idx",
            "village_code",
            "category",
            n_total=pl.col("active")
            + pl.col("n_new")
            + pl.col("n_closed")
            + pl.col("n_dormant")
            + pl.col("n_low"),
            b1=pl.col("active"),
            b2=pl.col("active") + pl.col("n_new"),
            b3=pl.col("active") + pl.col("n_new") + pl.col("n_closed"),
            b4=pl.col("active") + pl.col("n_new") + pl.col("n_closed") + pl.col("n_dormant"),
        )
        .filter(pl.col("n_total") > 0)
    )
    shops = u.with_columns(k=pl.int_ranges(0, pl.col("n_total"))).explode("k")
    n = shops.height
    # Five uniform draws per shop; further independent-looking uniforms come from their
    # digits (u * prime mod 1) and the two normals from one Box-Muller pair.
    names = ["open", "close", "q", "plat", "anchor"]
    draws = {name: stream.uniform(n, f"_u_{name}") for name in names}
    u_a, u_b = draws["close"], draws["anchor"]
    radius = (-2.0 * (1.0 - (u_a * 7919.0) % 1.0).log()).sqrt()
    angle = 2.0 * math.pi * ((u_b * 104729.0) % 1.0)
    z_w = (radius * angle.cos()).alias("_z_w")
    z_p = (radius * angle.sin()).alias("_z_p")
    draws["cat"] = ((draws["plat"] * 7919.0) % 1.0).alias("_u_cat")
    draws["catpick"] = ((draws["plat"] * 104729.0) % 1.0).alias("_u_catpick")
    shops = shops.with_columns(*draws.values(), z_w, z_p).with_columns(
        kind=pl.when(pl.col("k") < pl.col("b1"))
        .then(pl.lit(KIND_ACTIVE))
        .when(pl.col("k") < pl.col("b2"))
        .then(pl.lit(KIND_NEW))
        .when(pl.col("k") < pl.col("b3"))
        .then(pl.lit(KIND_CLOSED))
        .when(pl.col("k") < pl.col("b4"))
        .then(pl.lit(KIND_DORMANT))
        .otherwise(pl.lit(KIND_LOW))
        .cast(pl.Int8),
        seq=pl.int_range(first_seq, first_seq + n, dtype=pl.Int64),
        platform=_platform_expr(edition, pl.col("_u_plat")),
    )
    age = (-(1.0 - pl.col("_u_open")).log() * 900.0).floor().cast(pl.Int64)
    kind = pl.col("kind")
    march_end = date(edition, 3, 31)
    opened = (
        pl.when(kind == KIND_NEW)
        .then(pl.lit(cutoff) - pl.duration(days=(pl.col("_u_open") * 30).floor().cast(pl.Int64)))
        .when(kind.is_in([KIND_DORMANT, KIND_LOW]))
        .then(pl.lit(march_end) - pl.duration(days=age))
        .otherwise(pl.lit(cutoff - timedelta(days=30)) - pl.duration(days=age))
    )
    shops = shops.with_columns(opened_on=opened).with_columns(
        opened_on=pl.when(kind == KIND_NEW)
        .then(pl.col("opened_on"))
        .otherwise(pl.max_horizontal(pl.col("opened_on"), _launch_expr(pl.col("platform"))))
    )
    span = (pl.lit(cutoff) - pl.col("opened_on")).dt.total_days()
    shops = shops.with_columns(
        closed_on=pl.when(kind == KIND_CLOSED)
        .then(
            pl.col("opened_on")
            + pl.duration(days=(pl.col("_u_close") * (span + 1)).floor().cast(pl.Int64))
        )
        .otherwise(pl.lit(None, pl.Date)),
    )
    open_idx = dates.month_index(pl.col("opened_on"))
    close_idx = dates.month_index(pl.col("closed_on"))
    first = pl.max_horizontal(open_idx, pl.lit(0)).cast(pl.Int8)
    last = (
        pl.when(kind == KIND_CLOSED)
        .then(close_idx.clip(-1, 11))
        .when(kind.is_in([KIND_DORMANT, KIND_LOW]))
        .then(pl.lit(8))
        .otherwise(pl.lit(11))
    ).cast(pl.Int8)
    shops = shops.with_columns(first=first, last=last)
    low_first = pl.max_horizontal(pl.col("first"), pl.lit(9)).cast(pl.Int32)
    forced = (
        pl.when(kind == KIND_ACTIVE)
        .then(low_first + (pl.col("_u_anchor") * (12 - low_first)).floor().cast(pl.Int32))
        .when(kind == KIND_LOW)
        .then(9 + (pl.col("_u_anchor") * 3).floor().cast(pl.Int32))
        .otherwise(pl.lit(-1))
    ).cast(pl.Int8)
    cat_idx = (pl.col("_u_cat") * len(CATEGORIES)).floor().cast(pl.Int64)
    shops = shops.with_columns(
        forced=forced,
        q=pl.when(kind == KIND_NEW)
        .then(pl.lit(0.7))
        # Most shops sell in a few months only; a minority of regular sellers in most.
        .otherwise(0.03 + 0.55 * pl.col("_u_q") ** 4)
        .cast(pl.Float32),
        w=((0.9 * pl.col("_z_w")).exp()).cast(pl.Float32),
        price=(60.0 * (0.7 * pl.col("_z_p")).exp()).clip(5.0, 5000.0).cast(pl.Float32),
        main_category=pl.when(pl.col("_u_catpick") < 0.03)
        .then(pl.lit(None, pl.String))
        .when(pl.col("_u_catpick") < 0.68)
        .then(pl.col("category"))
        .otherwise(cat_idx.replace_strict(dict(enumerate(CATEGORIES)), return_dtype=pl.String)),
    )
    return shops.select(
        shop_id=shop_ids(edition, pl.col("seq")),
        village_code="village_code",
        platform="platform",
        opened_on="opened_on",
        closed_on="closed_on",
        main_category="main_category",
        unit_idx=pl.col("unit_idx").cast(pl.Int32),
        kind="kind",
        first="first",
        last="last",
        forced="forced",
        q="q",
        w="w",
        price="price",
    )


def special_shops(
    units: pl.DataFrame, edition: int, first_seq: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Hand-made threshold shops of a chunk and their fixed sales rows (cents)."""
    months = EditionDates(edition).months
    shop_rows: list[tuple[object, ...]] = []
    sales_rows: list[tuple[object, ...]] = []
    seq = first_seq
    for code, category, specials in units.select(
        "village_code", "category", "specials"
    ).iter_rows():
        for name in specials or []:
            spec = SPECIAL_SHOPS[name]
            opened, closed = spec.dates(edition)
            sid = shop_id(edition, seq)
            seq += 1
            shop_rows.append((sid, code, "taobao", opened, closed, category))
            for m, cents, orders in spec.rows:
                sales_rows.append((sid, months[m], cents, orders))
    shops = pl.DataFrame(
        shop_rows,
        schema={
            "shop_id": pl.String,
            "village_code": pl.String,
            "platform": pl.String,
            "opened_on": pl.Date,
            "closed_on": pl.Date,
            "main_category": pl.String,
        },
        orient="row",
    )
    sales = pl.DataFrame(
        sales_rows,
        schema={"shop_id": pl.String, "month": pl.String, "cents": pl.Int64, "orders": pl.Int64},
        orient="row",
    )
    return shops, sales
