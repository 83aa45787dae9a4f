"""The contract's designation rules restated in polars, for the asset checks.

The computation states the rules in SQL (``sql/criteria.sql``, ``sql/taobao_towns.sql``);
a check that ran the same SQL again could never disagree with it. These functions state
the rules a second time, from the contract's text, in another engine and in integer
arithmetic (a share as a whole number of ten-thousandths), so that a slip in the SQL (a
``>`` for a ``>=``, a missing condition) shows as a disagreement.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

import polars as pl

from taobao_pipeline.rules import Rules, window

VILLAGE_COLUMNS = ["village_code", "urban_rural_code", "households", "active_shops", "revenue_rmb"]


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def taobao_village_codes(metrics: pl.DataFrame, edition: int, rules: Rules) -> set[str]:
    """The village codes that meet all three criteria, from the metrics' inputs."""
    r = rules.for_edition(edition)
    committee = pl.col("village_code").str.slice(9, 3).cast(pl.Int32).is_between(200, 399)
    if r.allowed_urban_rural_codes is not None:
        committee &= pl.col("urban_rural_code").is_in(list(r.allowed_urban_rural_codes))
    cents = (pl.col("revenue_rmb").cast(pl.Decimal(20, 2)) * 100).cast(pl.Int64)
    share = int(r.min_shop_share * 10_000)  # 0.10 -> 1000 ten-thousandths
    shops = (pl.col("active_shops") >= r.min_active_shops) | (
        (pl.col("households") > 0)
        & (pl.col("active_shops") * 10_000 >= pl.col("households") * share)
    )
    meets = committee & (cents >= _cents(r.min_revenue_rmb)) & shops
    return set(metrics.filter(meets)["village_code"].to_list())


def taobao_town_codes(metrics: pl.DataFrame, edition: int, rules: Rules) -> set[str]:
    """The township codes that are Taobao towns, from every village's metrics and the
    designated villages (``is_taobao_village``)."""
    r = rules.for_edition(edition)
    towns = (
        metrics.group_by(pl.col("village_code").str.slice(0, 9).alias("township"))
        .agg(
            pl.col("is_taobao_village").sum().alias("villages"),
            (pl.col("revenue_rmb").cast(pl.Decimal(20, 2)) * 100)
            .cast(pl.Int64)
            .sum()
            .alias("cents"),
            pl.col("active_shops").sum().alias("active"),
        )
        .filter(
            (pl.col("villages") >= r.town_min_villages)
            | (
                pl.lit(edition >= r.town_sales_rule_from)
                & (pl.col("cents") > _cents(r.town_min_revenue_rmb))
                & (pl.col("active") > r.town_min_active_shops)
            )
        )
    )
    subdistrict = pl.col("township").str.slice(6, 3).cast(pl.Int32).is_between(1, 99)
    if edition >= r.subdistricts_excluded_from:
        towns = towns.filter(~subdistrict)
    return set(towns["township"].to_list())


def active_shops_by_village(
    shops: pl.DataFrame | pl.LazyFrame,
    sales: pl.DataFrame | pl.LazyFrame,
    edition: int,
    rules: Rules,
    buckets: int = 1,
) -> pl.DataFrame:
    """Active shops per village code, from the staged shops and their sales: open at least
    30 days at the cut-off, not closed by it, and at least 1 order a month over the last 3
    months of the window in which the shop was open (a month counts when the shop opened
    on or before its last day). Columns village_code, active_by_rule (villages with none
    absent).

    ``buckets``: the shops are taken in that many groups of their ``shop_id``'s hash (each
    with its sales), and the counts per village summed: memory follows the shops of one
    bucket (2022 at scale 4, 17.6M shops: 3.6 GB whole, 1.3 GB in two buckets)."""
    r = rules.for_edition(edition)
    w = window(edition, rules)
    month_ends = []
    for month in w.months[-r.activity_months :]:
        year, number = int(month[:4]), int(month[5:])
        month_ends.append(dt.date(year, number, calendar.monthrange(year, number)[1]))
    months_open = pl.sum_horizontal(
        (pl.col("opened_on") <= pl.lit(end)).cast(pl.Int64) for end in month_ends
    )
    if buckets > 1:
        parts = []
        for bucket in range(buckets):
            mine = pl.col("shop_id").hash() % buckets == bucket
            parts.append(
                active_shops_by_village(
                    shops.lazy().filter(mine), sales.lazy().filter(mine), edition, rules
                )
            )
        return pl.concat(parts).group_by("village_code").agg(pl.col("active_by_rule").sum())
    active = (
        shops.lazy()
        .join(sales.lazy(), on="shop_id", how="left")
        .with_columns(pl.col("recent_orders").fill_null(0), months_open.alias("months_open"))
        .filter(
            (pl.col("opened_on") <= pl.lit(w.cutoff_date - dt.timedelta(days=r.min_days_open)))
            & (pl.col("closed_on").is_null() | (pl.col("closed_on") > pl.lit(w.cutoff_date)))
            & (pl.col("months_open") > 0)
            & (pl.col("recent_orders") >= pl.col("months_open") * r.min_avg_orders)
        )
        .group_by("village_code")
        .agg(pl.len().alias("active_by_rule"))
    )
    return active.collect(engine="streaming")
