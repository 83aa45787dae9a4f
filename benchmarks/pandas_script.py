"""The usual alternative: the designations as an analyst would write them with pandas.

Read each edition's files (CSV in UTF-8, else GB18030; Parquet), merge, group by. Like the
floor it validates nothing; it is made robust the plain way: values that do not parse
become missing and their rows are dropped, identical copies are dropped, money is summed
in integer cents (a float sum could land a cent below RMB 10,000,000.00).

    python -m benchmarks.pandas_script RAW_DIR OUT.csv [--editions 2009-2022]

writes the designated ``(edition, village_code)`` pairs to ``OUT.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from benchmarks import parse_editions


def read(path: Path, columns: list[str]) -> pd.DataFrame:
    """One file's needed columns as trimmed text."""
    if path.name.endswith(".parquet"):
        frame = pd.read_parquet(path)
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except UnicodeDecodeError:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
    frame.columns = [c.strip().lower() for c in frame.columns]
    return frame[columns].astype(str).fillna("").apply(lambda c: c.str.strip())


def read_all(folder: Path, pattern: str, columns: list[str]) -> pd.DataFrame:
    """Every file matching ``pattern`` in the folder, concatenated."""
    return pd.concat([read(p, columns) for p in sorted(folder.glob(pattern))], ignore_index=True)


def designate(folder: Path, edition: int) -> list[str]:
    """The designated village codes of one edition folder."""
    cutoff = pd.Timestamp(edition, 6, 30)
    months = pd.period_range(end=cutoff, periods=12, freq="M")
    window = [f"{m.year:04d}-{m.month:02d}" for m in months]
    last3 = window[-3:]

    villages = read_all(folder, "villages.*", ["village_code", "households"])
    villages["households"] = pd.to_numeric(villages["households"], errors="coerce")
    villages = villages.dropna().drop_duplicates()

    shops = read_all(folder, "shops.*", ["shop_id", "village_code", "opened_on", "closed_on"])
    shops["opened_on"] = pd.to_datetime(shops["opened_on"], format="%Y-%m-%d", errors="coerce")
    closed = shops["closed_on"].replace({"None": "", "NaT": ""})
    shops["closed_on"] = pd.to_datetime(closed, format="%Y-%m-%d", errors="coerce")
    shops = shops[shops["opened_on"].notna() & (shops["closed_on"].notna() | (closed == ""))]
    shops = shops.drop_duplicates()

    revenue = read_all(folder, "revenue*", ["shop_id", "month", "gmv_rmb", "orders"])
    revenue["cents"] = (pd.to_numeric(revenue["gmv_rmb"], errors="coerce") * 100).round()
    revenue["orders"] = pd.to_numeric(revenue["orders"], errors="coerce")
    revenue = revenue[revenue["month"].isin(window)].dropna()
    revenue = revenue.drop(columns="gmv_rmb").drop_duplicates()

    sales = revenue.merge(shops[["shop_id", "opened_on"]], on="shop_id")
    month_end = pd.to_datetime(sales["month"], format="%Y-%m") + pd.offsets.MonthEnd(0)
    recent = sales["month"].isin(last3) & (sales["opened_on"] <= month_end)
    sales["recent_orders"] = sales["orders"].where(recent, 0)
    per_shop = sales.groupby("shop_id", as_index=False)[["cents", "recent_orders"]].sum()

    shops = shops.merge(per_shop, on="shop_id", how="left").fillna({"cents": 0, "recent_orders": 0})
    months_open = sum(
        (shops["opened_on"] <= pd.Timestamp(m) + pd.offsets.MonthEnd(0)).astype(int) for m in last3
    )
    shops["active"] = (
        (shops["opened_on"] <= cutoff - pd.Timedelta(days=30))
        & (shops["closed_on"].isna() | (shops["closed_on"] > cutoff))
        & (shops["recent_orders"] >= months_open)
    )
    per_village = shops.groupby("village_code", as_index=False).agg(
        cents=("cents", "sum"), active_shops=("active", "sum")
    )

    v = villages.merge(per_village, on="village_code")
    rural = v["village_code"].str[9:12].between("200", "399")
    meets_shops = (v["active_shops"] >= 100) | (
        (v["households"] > 0) & (v["active_shops"] * 10 >= v["households"])
    )
    chosen = v[rural & (v["cents"] >= 1_000_000_000) & meets_shops]
    return sorted(set(chosen["village_code"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--editions", type=parse_editions, default=list(range(2009, 2023)))
    args = parser.parse_args()
    rows = [(e, code) for e in args.editions for code in designate(args.raw / str(e), e)]
    pd.DataFrame(rows, columns=["edition", "village_code"]).to_csv(args.out, index=False)
    print(f"pandas: {len(rows)} designated villages")


if __name__ == "__main__":
    main()
