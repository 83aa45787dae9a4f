"""Monthly sales rows of the shops of a chunk of planned units, vectorised.

A shop sells in a random subset of the window months it was open (more in November, June
and December), active shops always in one of the last three counted months with at least
three orders, and about one row in a hundred is a month of net refunds (negative GMV, no
orders). Rows exist only for months with sales. Each unit's rows are scaled so that the
unit's revenue is exactly its planned revenue, to the cent, in integer arithmetic.
"""

from __future__ import annotations

import polars as pl

from .rng import Stream
from .shops import KIND_ACTIVE, KIND_LOW, SEASON, EditionDates

_WEIGHT_SCALE = 1_000_000


def monthly_sales(
    bulk: pl.DataFrame,
    special_shops: pl.DataFrame,
    special_sales: pl.DataFrame,
    units: pl.DataFrame,
    edition: int,
    stream: Stream,
) -> pl.DataFrame:
    """Rows (shop_id, month, cents, orders) whose sums per unit equal ``revenue_cents``.

    ``bulk`` comes from :func:`.shops.bulk_shops` (rows sorted by unit); ``units`` is the same
    chunk of planned units (its row order defines ``unit_idx``).
    """
    months = EditionDates(edition).months
    season = {m: SEASON[(m + 6) % 12 + 1] for m in range(12)}
    # Candidate months per shop: its open months, plus the forced month of 'low' shops.
    top = pl.max_horizontal(pl.col("last"), pl.col("forced")).cast(pl.Int16)
    cand = (
        bulk.select(
            pl.int_range(pl.len(), dtype=pl.Int32).alias("shop_idx"),
            "unit_idx",
            "kind",
            "first",
            "last",
            "forced",
            "q",
            "w",
            "price",
        )
        .with_columns(m=pl.int_ranges(pl.col("first").cast(pl.Int16), top + 1, dtype=pl.Int8))
        .explode("m")
        .drop_nulls("m")
    )
    cand = cand.with_columns(stream.uniform(cand.height, "_u").cast(pl.Float32))
    m = pl.col("m")
    forced = m == pl.col("forced")
    keep = ((m <= pl.col("last")) & (pl.col("_u") < pl.col("q"))) | forced
    rows = cand.filter(keep)
    # One draw per row: the keep draw rescaled gives the size, its digits the refund flag.
    size = (pl.col("_u") / pl.col("q")).clip(0.0, 1.0)
    refund_u = (pl.col("_u") * 7919.0) % 1.0
    s = m.replace_strict(season, return_dtype=pl.Float32)
    refund = (refund_u < 0.012) & ~forced
    low_forced = forced & (pl.col("kind") == KIND_LOW)
    weight = (
        pl.when(low_forced)
        .then(0.02 * pl.col("w"))
        .when(refund)
        .then(-0.25 * pl.col("w") * size)
        .otherwise(pl.col("w") * s * (0.4 + 1.2 * size))
    )
    rows = rows.select(
        "shop_idx",
        "unit_idx",
        "kind",
        "m",
        "price",
        forced.alias("is_forced"),
        (weight.cast(pl.Float64) * _WEIGHT_SCALE).round().cast(pl.Int64).alias("w_int"),
    )
    # Target per unit: planned revenue minus the fixed rows of its special shops.
    fixed = (
        special_sales.join(special_shops.select("shop_id", "village_code"), on="shop_id")
        .group_by("village_code")
        .agg(pl.col("cents").sum().alias("fixed"))
    )
    target = (
        units.with_row_index("unit_idx")
        .select(pl.col("unit_idx").cast(pl.Int32), "village_code", "revenue_cents")
        .join(fixed, on="village_code", how="left")
        .select(
            "unit_idx",
            (pl.col("revenue_cents") - pl.col("fixed").fill_null(0)).alias("target"),
        )
    )
    # Refunds never outweigh sales: a unit's negative weights total at most 30% of its
    # positive ones.
    pos_neg = rows.group_by("unit_idx").agg(
        pl.col("w_int").clip(lower_bound=0).sum().alias("_pos"),
        pl.col("w_int").clip(upper_bound=0).sum().alias("_neg"),
    )
    rows = (
        rows.join(pos_neg, on="unit_idx", how="left", maintain_order="left")
        .with_columns(
            w_int=pl.when((pl.col("w_int") < 0) & (pl.col("_neg") * -10 > pl.col("_pos") * 3))
            .then(
                (
                    pl.col("w_int").cast(pl.Float64)
                    * 0.3
                    * pl.col("_pos").cast(pl.Float64)
                    / -pl.col("_neg").cast(pl.Float64)
                )
                .floor()
                .cast(pl.Int64)
            )
            .otherwise(pl.col("w_int"))
        )
        .drop("_pos", "_neg")
    )
    sums = rows.group_by("unit_idx").agg(pl.col("w_int").sum().alias("w_sum"))
    if sums.height and sums["w_sum"].min() <= 0:  # type: ignore[operator]
        raise AssertionError(f"edition {edition}: a unit has no positive sales weight")
    missing = target.join(sums, on="unit_idx", how="anti").filter(pl.col("target") != 0)
    if missing.height:
        raise AssertionError(f"edition {edition}: units without sales rows: {missing.head(3)}")
    rows = rows.join(
        target.join(sums, on="unit_idx"), on="unit_idx", how="left", maintain_order="left"
    )
    share = (
        (
            pl.col("target").cast(pl.Float64)
            * pl.col("w_int").cast(pl.Float64)
            / pl.col("w_sum").cast(pl.Float64)
        )
        .floor()
        .cast(pl.Int64)
    )
    rows = rows.with_columns(cents=share)
    placed = rows.group_by("unit_idx").agg(pl.col("cents").sum().alias("placed"))
    rows = rows.join(placed, on="unit_idx", how="left", maintain_order="left")
    first_of_unit = pl.col("unit_idx") != pl.col("unit_idx").shift(1, fill_value=-1)
    rows = rows.with_columns(
        cents=pl.col("cents")
        + pl.when(first_of_unit).then(pl.col("target") - pl.col("placed")).otherwise(0)
    )
    base_orders = (
        (pl.col("cents").cast(pl.Float64) / 100.0 / pl.col("price")).floor().cast(pl.Int64)
    )
    is_low = pl.col("is_forced") & (pl.col("kind") == KIND_LOW)
    is_anchor = pl.col("is_forced") & (pl.col("kind") == KIND_ACTIVE)
    orders = (
        pl.when(is_low)
        .then(pl.lit(2, pl.Int64))
        .when(is_anchor)
        .then(pl.max_horizontal(base_orders, pl.lit(3, pl.Int64)))
        .when(pl.col("cents") <= 0)
        .then(pl.lit(0, pl.Int64))
        .otherwise(pl.max_horizontal(base_orders, pl.lit(1, pl.Int64)))
    )
    shop_id = bulk.get_column("shop_id")
    out = rows.select(
        shop_id.gather(rows.get_column("shop_idx")).alias("shop_id"),
        pl.col("m").replace_strict(dict(enumerate(months)), return_dtype=pl.String).alias("month"),
        "cents",
        orders.alias("orders"),
    )
    return pl.concat([out, special_sales.select(out.columns)])
