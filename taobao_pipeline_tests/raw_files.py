"""Writing small raw extracts for tests, in any format and encoding the contract allows."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from taobao_pipeline.sources import REVENUE, SHOPS, VILLAGES

VILLAGE_COLUMNS = VILLAGES.columns
SHOP_COLUMNS = SHOPS.columns
REVENUE_COLUMNS = REVENUE.columns


def write_csv(
    path: Path,
    rows: Sequence[Mapping[str, object]],
    columns: Sequence[str],
    encoding: str = "utf-8",
) -> Path:
    """Rows as CSV (``.csv`` or ``.csv.gz``); ``encoding`` may be utf-8-sig or gb18030."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    data = buffer.getvalue().encode(encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def write_parquet(path: Path, frame: pl.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def village(code: str, households: int = 500, name: str | None = None, urc: str = "220") -> dict:
    """A register row for ``code`` with plausible names."""
    return {
        "village_code": code,
        "village_name": name or f"村{code[-3:]}",
        "township_name": f"镇{code[6:9]}",
        "county_name": f"县{code[4:6]}",
        "prefecture_name": f"市{code[2:4]}",
        "province_name": "浙江省" if code.startswith("33") else f"省{code[:2]}",
        "urban_rural_code": urc,
        "households": households,
    }


def shop(
    shop_id: str, village_code: str, opened_on: str = "2018-01-01", closed_on: str | None = None
) -> dict:
    return {
        "shop_id": shop_id,
        "village_code": village_code,
        "platform": "taobao",
        "opened_on": opened_on,
        "closed_on": closed_on,
        "main_category": "家具",
    }


def sales(shop_id: str, months: Sequence[str], gmv: str = "1000.00", orders: int = 5) -> list[dict]:
    return [{"shop_id": shop_id, "month": m, "gmv_rmb": gmv, "orders": orders} for m in months]


def window(edition: int) -> list[str]:
    """The default window of ``edition``: July of the year before to June."""
    return [f"{edition - 1}-{m:02d}" for m in range(7, 13)] + [
        f"{edition}-{m:02d}" for m in range(1, 7)
    ]


def write_edition(
    raw_dir: Path,
    edition: int,
    villages: Sequence[Mapping[str, object]],
    shops: Sequence[Mapping[str, object]],
    revenue: Sequence[Mapping[str, object]],
) -> Path:
    """An edition folder in plain UTF-8 CSV."""
    folder = raw_dir / str(edition)
    write_csv(folder / "villages.csv", villages, VILLAGE_COLUMNS)
    write_csv(folder / "shops.csv", shops, SHOP_COLUMNS)
    write_csv(folder / "revenue.csv", revenue, REVENUE_COLUMNS)
    return folder
