"""Every input form the contract allows gives the same warehouse as plain UTF-8 CSV."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from taobao_pipeline.defs.resources import QualityResource
from taobao_pipeline.runner import run_editions
from taobao_pipeline_tests.raw_files import (
    REVENUE_COLUMNS,
    SHOP_COLUMNS,
    VILLAGE_COLUMNS,
    write_csv,
    write_parquet,
)
from taobao_pipeline_tests.scenarios import Edition, boundary_edition
from taobao_pipeline_tests.warehouse_queries import read_table

YEAR = 2020
METRICS = "SELECT * FROM village_metrics ORDER BY village_code"


def _typed(
    rows: list[dict], columns: tuple[str, ...], types: dict[str, pl.DataType]
) -> pl.DataFrame:
    frame = pl.DataFrame(
        [{c: r.get(c) for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.Utf8)
    )
    return frame.with_columns(
        pl.col(c).str.to_date() if t == pl.Date else pl.col(c).cast(t) for c, t in types.items()
    )


def parquet_typed(folder: Path, e: Edition) -> None:
    """Parquet with native types: integers, dates, DECIMAL(18,2)."""
    write_parquet(
        folder / "villages.parquet", _typed(e.villages, VILLAGE_COLUMNS, {"households": pl.Int64})
    )
    write_parquet(
        folder / "shops.parquet",
        _typed(e.shops, SHOP_COLUMNS, {"opened_on": pl.Date, "closed_on": pl.Date}),
    )
    write_parquet(
        folder / "revenue.parquet",
        _typed(e.revenue, REVENUE_COLUMNS, {"gmv_rmb": pl.Decimal(18, 2), "orders": pl.Int32}),
    )


def gzip_with_bom(folder: Path, e: Edition) -> None:
    """CSV.gz, UTF-8 with a byte-order mark."""
    write_csv(folder / "villages.csv.gz", e.villages, VILLAGE_COLUMNS, "utf-8-sig")
    write_csv(folder / "shops.csv.gz", e.shops, SHOP_COLUMNS, "utf-8-sig")
    write_csv(folder / "revenue.csv.gz", e.revenue, REVENUE_COLUMNS, "utf-8-sig")


def gb18030(folder: Path, e: Edition) -> None:
    """GB18030 CSV, as government and platform exports often are."""
    write_csv(folder / "villages.csv", e.villages, VILLAGE_COLUMNS, "gb18030")
    write_csv(folder / "shops.csv", e.shops, SHOP_COLUMNS, "gbk")
    write_csv(folder / "revenue.csv", e.revenue, REVENUE_COLUMNS, "gb18030")


def shuffled_padded_extra(folder: Path, e: Edition) -> None:
    """Columns in another order, an extra column, spaces around values and names."""

    def pad(rows: list[dict]) -> list[dict]:
        return [
            {f" {k} ": f"  {v} " if v is not None else "  " for k, v in r.items()} | {" note ": "x"}
            for r in rows
        ]

    rng = random.Random(1)
    for name, rows, cols in (
        ("villages", e.villages, VILLAGE_COLUMNS),
        ("shops", e.shops, SHOP_COLUMNS),
        ("revenue", e.revenue, REVENUE_COLUMNS),
    ):
        order = [f" {c} " for c in cols] + [" note "]
        rng.shuffle(order)
        write_csv(folder / f"{name}.csv", pad(rows), order)


def revenue_in_parts(folder: Path, e: Edition) -> None:
    """Revenue delivered as three parts in mixed formats."""
    write_csv(folder / "villages.csv", e.villages, VILLAGE_COLUMNS)
    write_csv(folder / "shops.csv", e.shops, SHOP_COLUMNS)
    third = len(e.revenue) // 3
    parts = [e.revenue[:third], e.revenue[third : 2 * third], e.revenue[2 * third :]]
    write_csv(folder / "revenue-part1.csv", parts[0], REVENUE_COLUMNS)
    write_csv(folder / "revenue-part2.csv.gz", parts[1], REVENUE_COLUMNS, "gb18030")
    write_parquet(
        folder / "revenue-part3.parquet",
        _typed(parts[2], REVENUE_COLUMNS, {"gmv_rmb": pl.Decimal(18, 2), "orders": pl.Int64}),
    )


@pytest.mark.parametrize(
    "writer", [parquet_typed, gzip_with_bom, gb18030, shuffled_padded_extra, revenue_in_parts]
)
def test_input_form_gives_same_warehouse(
    tmp_path: Path, boundary_run: Path, writer: Callable[[Path, Edition], None]
) -> None:
    writer(tmp_path / "raw" / str(YEAR), boundary_edition(YEAR))
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(tmp_path / "raw", warehouse, [YEAR])
    expected = read_table(boundary_run, METRICS.replace("ORDER", f"WHERE edition = {YEAR} ORDER"))
    assert read_table(warehouse, METRICS) == expected
    audit = read_table(warehouse, "SELECT sum(rows_read), sum(rows_rejected) FROM load_audit")
    e = boundary_edition(YEAR)
    assert audit == [(len(e.villages) + len(e.shops) + len(e.revenue), 0)]


def test_chinese_names_survive_gb18030(tmp_path: Path) -> None:
    e = boundary_edition(YEAR)
    gb18030(tmp_path / "raw" / str(YEAR), e)
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(tmp_path / "raw", warehouse, [YEAR])
    names = read_table(warehouse, "SELECT DISTINCT province_name FROM village_metrics ORDER BY 1")
    assert ("浙江省",) in names


def test_rules_judge_natively_typed_parquet(tmp_path: Path) -> None:
    """Native types skip the format rules but not the value rules; other types become text."""
    e = boundary_edition(YEAR)
    folder = tmp_path / "raw" / str(YEAR)
    write_csv(folder / "villages.csv", e.villages, VILLAGE_COLUMNS)
    write_csv(folder / "shops.csv", e.shops, SHOP_COLUMNS)
    shop_id = e.shops[0]["shop_id"]
    write_parquet(
        folder / "revenue-typed.parquet",
        pl.DataFrame(
            {
                "shop_id": [shop_id] * 3,
                "month": ["2019-07", "2019-08", "2019-09"],
                "gmv_rmb": pl.Series(["1.50", "2.00", "3.00"]).str.to_decimal(scale=2),
                "orders": pl.Series([1, -2, 3], dtype=pl.Int32),
            }
        ),
    )
    write_parquet(
        folder / "revenue-float.parquet",
        pl.DataFrame(
            {
                "shop_id": [shop_id] * 3,
                "month": ["2019-10", "2019-11", "2019-12"],
                "gmv_rmb": [0.1 + 0.2, 12.34, 5.0],  # floats: judged as their shortest text
                "orders": [1.0, 2.0, 3.5],
            }
        ),
    )
    warehouse = tmp_path / "taobao.duckdb"
    # most of these few sales rows break a rule on purpose: above the quality gate's share
    anyway = QualityResource(publish_anyway="rows broken on purpose")
    run_editions(tmp_path / "raw", warehouse, [YEAR], quality=anyway)
    rejected = read_table(
        warehouse,
        "SELECT file, row_number, reason FROM rejected_rows WHERE source = 'revenue' ORDER BY ALL",
    )
    assert rejected == [
        (
            "revenue-float.parquet",
            1,
            "gmv_rmb is not a decimal with at most 2 places; orders is not an integer",
        ),
        ("revenue-float.parquet", 2, "orders is not an integer"),
        ("revenue-float.parquet", 3, "orders is not an integer"),
        ("revenue-typed.parquet", 2, "orders is negative"),
    ]
