"""Rows the contract rejects, injected at a small rate into every file.

Every injected row is built so that rejecting it changes no planned designation: identical
copies repeat rows that stay accepted once; contradictory repeats and invalid rows use keys
that carry nothing the plan needs (new shop ids, new village codes, months a shop has no
row for). Several are traps: they point at near-miss units with values that would tip them
over a threshold if a pipeline wrongly accepted them.

Each function returns ``(typed, text, counts)``: rows in the file's typed schema (valid for
Parquet and CSV), rows that only text files can carry (all columns strings), and the number
of injected rows by kind.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from .shops import EditionDates, shop_id

VILLAGE_SCHEMA = {
    "village_code": pl.String,
    "village_name": pl.String,
    "township_name": pl.String,
    "county_name": pl.String,
    "prefecture_name": pl.String,
    "province_name": pl.String,
    "urban_rural_code": pl.String,
    "households": pl.Int64,
}
SHOP_SCHEMA = {
    "shop_id": pl.String,
    "village_code": pl.String,
    "platform": pl.String,
    "opened_on": pl.Date,
    "closed_on": pl.Date,
    "main_category": pl.String,
}
SALES_SCHEMA = {"shop_id": pl.String, "month": pl.String, "cents": pl.Int64, "orders": pl.Int64}
SALES_TEXT_COLUMNS = ["shop_id", "month", "gmv_rmb", "orders"]

#: Sequence numbers from here on are never issued to real shops (ids for unknown shops).
UNKNOWN_SEQ = 90_000_000


@dataclass
class Injected:
    """Injected rows of one file: typed rows, text-only rows and counts by kind."""

    typed: pl.DataFrame
    text: pl.DataFrame
    counts: dict[str, int] = field(default_factory=dict)


def _frame(rows: list[dict[str, object]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _text_frame(rows: list[dict[str, str]], columns: list[str]) -> pl.DataFrame:
    schema = dict.fromkeys(columns, pl.String)
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def village_defects(
    register: pl.DataFrame, untouched: list[str], rnd: random.Random, n: int, text_ok: bool
) -> tuple[Injected, list[str]]:
    """Bad register rows; returns them and the codes of rejected villages that get shops.

    ``untouched``: codes of register villages with no shop (safe to contradict).
    """
    rows: list[dict[str, object]] = []
    text: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    sample = register.sample(n=min(n * 2, register.height), seed=rnd.randrange(2**31))
    records = sample.to_dicts()
    base = records[0]

    def add(kind: str, row: dict[str, object]) -> None:
        rows.append(row)
        counts[kind] = counts.get(kind, 0) + 1

    for r in records[:n]:  # identical copies (first stays accepted)
        add("duplicate_identical", dict(r))
    pool = [c for c in untouched]
    rnd.shuffle(pool)
    by_code = {
        r["village_code"]: r
        for r in register.filter(pl.col("village_code").is_in(pool[:n])).to_dicts()
    }
    for code in pool[:n]:  # contradictory copies of villages without shops: both rejected
        other = dict(by_code[code])
        other["households"] = int(other["households"]) + 7  # type: ignore[call-overload]
        add("duplicate_conflicting", other)
    cascade: list[str] = []
    townships = [str(r["village_code"])[:9] for r in records]
    for i in range(n):
        t = townships[i % len(townships)]
        good = dict(base)
        good["village_code"] = f"{t}59{i % 10}"
        bad = dict(good, village_name="")
        add("empty_village_name", bad)
        cascade.append(str(bad["village_code"]))
        add(
            "bad_urban_rural_code",
            dict(
                good,
                village_code=f"{t}58{i % 10}",
                urban_rural_code=rnd.choice(["230", "11", "999"]),
            ),
        )
        add("negative_households", dict(good, village_code=f"{t}57{i % 10}", households=-12))
        add(
            "malformed_village_code",
            dict(
                good,
                village_code=rnd.choice([t + "20", t + "2011", t[:8] + "X201", "0" * 12 + "1"]),
            ),
        )
        if text_ok:
            text.append(
                dict(
                    {k: str(v) for k, v in good.items()},
                    village_code=f"{t}56{i % 10}",
                    households=rnd.choice(["约300户", "n/a", "12.5"]),
                )
            )
            counts["text_in_households"] = counts.get("text_in_households", 0) + 1
    return Injected(
        _frame(rows, VILLAGE_SCHEMA), _text_frame(text, list(VILLAGE_SCHEMA)), counts
    ), cascade


def shop_defects(
    shops: pl.DataFrame,
    targets: list[str],
    rejected_villages: list[str],
    edition: int,
    rnd: random.Random,
    n: int,
    next_seq: int,
    text_ok: bool,
) -> tuple[Injected, Injected, int]:
    """Bad shop rows for a chunk, the sales rows of the bad shops, and the next free seq.

    ``targets``: accepted villages (near-miss units first) that conflicting and invalid shops
    point at; their sales rows would tip those units over a threshold if accepted.
    """
    cutoff = EditionDates(edition).cutoff
    months = EditionDates(edition).months
    rows: list[dict[str, object]] = []
    text: list[dict[str, str]] = []
    sales: list[dict[str, object]] = []
    counts: dict[str, int] = {}
    sales_counts: dict[str, int] = {}

    def new_id() -> str:
        nonlocal next_seq
        sid = shop_id(edition, next_seq)
        next_seq += 1
        return sid

    def add(kind: str, row: dict[str, object], with_sales: bool = True) -> None:
        rows.append(row)
        counts[kind] = counts.get(kind, 0) + 1
        if with_sales and row["shop_id"]:
            for m in (9, 10, 11):
                sales.append(
                    {
                        "shop_id": row["shop_id"],
                        "month": months[m],
                        "cents": 2_000_000 + rnd.randrange(1_000_000),
                        "orders": 40,
                    }
                )
                sales_counts["sales_of_rejected_shop"] = (
                    sales_counts.get("sales_of_rejected_shop", 0) + 1
                )

    def shop(code: str) -> dict[str, object]:
        return {
            "shop_id": new_id(),
            "village_code": code,
            "platform": "taobao",
            "opened_on": cutoff - timedelta(days=400 + rnd.randrange(300)),
            "closed_on": None,
            "main_category": "服装",
        }

    sample = shops.select(list(SHOP_SCHEMA)).sample(
        n=min(n, shops.height), seed=rnd.randrange(2**31)
    )
    for r in sample.to_dicts():  # identical copies
        add("duplicate_identical", r, with_sales=False)
    for i in range(n):
        code = targets[i % len(targets)]
        a = shop(code)
        add("duplicate_conflicting", a)
        add("duplicate_conflicting", dict(a, main_category="箱包"), with_sales=False)
        add("unknown_village", shop(code[:9] + "599"))
        add("malformed_village_code", shop(rnd.choice([code[:10], code + "0", code[:11] + "O"])))
        add("bad_platform", dict(shop(code), platform=rnd.choice(["jd", "pinduoduo", "douyin"])))
        s = shop(code)
        s["closed_on"] = date.fromordinal(s["opened_on"].toordinal() - 10)  # type: ignore[attr-defined]
        add("closed_before_opened", s)
        add("empty_shop_id", dict(shop(code), shop_id=""), with_sales=False)
        if rejected_villages:
            add("village_rejected", shop(rejected_villages[i % len(rejected_villages)]))
        if text_ok:
            t = shop(code)
            text.append(
                {k: ("" if v is None else str(v)) for k, v in t.items()}
                | {"opened_on": rnd.choice(["2019/05/01", f"{edition - 1}-02-30", "20190501"])}
            )
            counts["malformed_date"] = counts.get("malformed_date", 0) + 1
            for m in (10, 11):
                sales.append(
                    {"shop_id": t["shop_id"], "month": months[m], "cents": 3_000_000, "orders": 30}
                )
                sales_counts["sales_of_rejected_shop"] = (
                    sales_counts.get("sales_of_rejected_shop", 0) + 1
                )
    return (
        Injected(_frame(rows, SHOP_SCHEMA), _text_frame(text, list(SHOP_SCHEMA)), counts),
        Injected(_frame(sales, SALES_SCHEMA), _text_frame([], SALES_TEXT_COLUMNS), sales_counts),
        next_seq,
    )


def sales_defects(
    sales: pl.DataFrame,
    trap_shops: list[str],
    plain_shops: list[str],
    edition: int,
    rnd: random.Random,
    n: int,
    text_ok: bool,
) -> Injected:
    """Bad revenue rows for a chunk.

    ``trap_shops``: accepted shops of near-miss units (their invalid rows would tip them);
    ``plain_shops``: other accepted shops. Invalid and conflicting rows use (shop, month)
    keys that have no valid row, so they can never knock out a needed row.
    """
    dates = EditionDates(edition)
    months = dates.months
    counts: dict[str, int] = {}
    rows: list[dict[str, object]] = []
    text: list[dict[str, str]] = []

    def add(kind: str, row: dict[str, object]) -> None:
        rows.append(row)
        counts[kind] = counts.get(kind, 0) + 1

    sample = sales.sample(n=min(n, sales.height), seed=rnd.randrange(2**31))
    for r in sample.to_dicts():
        add("duplicate_identical", r)
    shops = (trap_shops + plain_shops)[: max(4 * n, 8)]
    if shops:
        grid = pl.DataFrame(
            {"shop_id": [s for s in shops for _ in months], "month": months * len(shops)}
        )
        taken = sales.select("shop_id", "month").filter(pl.col("shop_id").is_in(shops))
        free = grid.join(taken, on=["shop_id", "month"], how="anti", maintain_order="left")
        keys = free.rows()
        # Near-miss shops first (traps), then a shuffled rest.
        head = [k for k in keys if k[0] in set(trap_shops)]
        tail = [k for k in keys if k[0] not in set(trap_shops)]
        rnd.shuffle(tail)
        keys = head + tail
    else:
        keys = []
    it = iter(keys)
    for _ in range(n):
        key = next(it, None)
        if key is None:
            break
        sid, month = key
        add(
            "duplicate_conflicting", {"shop_id": sid, "month": month, "cents": 500_000, "orders": 5}
        )
        add(
            "duplicate_conflicting", {"shop_id": sid, "month": month, "cents": 520_000, "orders": 5}
        )
        key = next(it, None)
        if key is None:
            break
        add("negative_orders", {"shop_id": key[0], "month": key[1], "cents": 800_000, "orders": -3})
        key = next(it, None)
        if key is None:
            break
        add(
            "malformed_month",
            {
                "shop_id": key[0],
                "month": rnd.choice(
                    [f"{edition}-13", key[1].replace("-", ""), key[1].replace("-", "/")]
                ),
                "cents": 900_000,
                "orders": 9,
            },
        )
        sid = key[0]
        add(
            "month_outside_window",
            {
                "shop_id": sid,
                "month": rnd.choice([f"{edition}-07", f"{edition - 1}-06"]),
                "cents": 1_500_000,
                "orders": 12,
            },
        )
        uid = shop_id(edition, UNKNOWN_SEQ + rnd.randrange(1_000_000))
        add("unknown_shop", {"shop_id": uid, "month": months[11], "cents": 100_000, "orders": 3})
        if text_ok:
            key = next(it, None)
            if key is None:
                break
            text.append(
                {
                    "shop_id": key[0],
                    "month": key[1],
                    "gmv_rmb": rnd.choice(["12O.50", "N/A", "1,200.00", "10.555"]),
                    "orders": "4",
                }
            )
            counts["text_in_gmv"] = counts.get("text_in_gmv", 0) + 1
            key = next(it, None)
            if key is None:
                break
            text.append(
                {
                    "shop_id": key[0],
                    "month": key[1],
                    "gmv_rmb": "35.00",
                    "orders": rnd.choice(["三", "1.5", "n/a"]),
                }
            )
            counts["text_in_orders"] = counts.get("text_in_orders", 0) + 1
    return Injected(_frame(rows, SALES_SCHEMA), _text_frame(text, SALES_TEXT_COLUMNS), counts)
