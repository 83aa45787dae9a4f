"""Each rejection reason, the repeats rule, and the balance of ``load_audit``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taobao_pipeline.runner import run_editions
from taobao_pipeline_tests.conftest import read_table
from taobao_pipeline_tests.extracts import (
    REVENUE_COLUMNS,
    SHOP_COLUMNS,
    VILLAGE_COLUMNS,
    shop,
    village,
    write_csv,
)

YEAR = 2020
GOOD = "330782101201"
DUP = "330782101202"  # delivered twice, identically: first accepted
CONFLICT = "330782101203"  # delivered twice with different households: both rejected

VILLAGES = [
    village(GOOD),  # 1
    village(DUP),  # 2
    village(DUP),  # 3 duplicate
    village(CONFLICT, 100),  # 4 conflict
    village(CONFLICT, 101),  # 5 conflict
    village("33078210120X"),  # 6 malformed code
    village("3307821012"),  # 7 too short
    village(GOOD[:-1] + "9") | {"village_name": " "},  # 8 empty name
    village(GOOD[:-1] + "8", urc="999"),  # 9 unknown urban-rural class
    village(GOOD[:-1] + "7") | {"households": "many"},  # 10 text for a number
    village(GOOD[:-1] + "6", -1),  # 11 negative households
]
SHOPS = [
    shop("a", GOOD),  # 1
    shop("b", DUP),  # 2
    shop("b", DUP),  # 3 duplicate
    shop("c", GOOD, "2019-01-01"),  # 4 conflict
    shop("c", GOOD, "2019-01-02"),  # 5 conflict
    shop("d", CONFLICT),  # 6 village rejected
    shop("e", "330782999201"),  # 7 village absent
    shop("f", GOOD) | {"platform": "jd"},  # 8
    shop("g", GOOD, "2019-02-30"),  # 9 not a date
    shop("h", GOOD, "2019-05-01", "2019-04-30"),  # 10 closed before opened
    shop("", GOOD),  # 11 empty id
    shop("i", GOOD, "2019-05-01", "2019-05-01"),  # 12 closed the day it opened: fine
    shop("j", GOOD, "2019/05/01"),  # 13 wrong date format
]


def rev(shop_id: str, month: str = "2020-06", gmv: str = "10.00", orders: object = 1) -> dict:
    return {"shop_id": shop_id, "month": month, "gmv_rmb": gmv, "orders": orders}


REVENUE_1 = [
    rev("a"),  # 1
    rev("a", "2020-05"),  # 2 (repeated identically in part 2)
    rev("a", "2020-04", "5.00"),  # 3 conflict with part 2
    rev("c"),  # 4 shop rejected
    rev("zz"),  # 5 shop absent
    rev("a", "2020-07"),  # 6 after the window
    rev("a", "2019-06"),  # 7 before the window
    rev("a", "2020-13"),  # 8 not a month
    rev("a", "2020-03", "ten"),  # 9 text for money
    rev("a", "2020-02", "1.005"),  # 10 three decimals
    rev("a", "2020-01", "-99.50"),  # 11 net refund: fine
    rev("a", "2019-12", orders=-1),  # 12 negative orders
    rev("a", "2019-11", orders="1.5"),  # 13 not an integer
]
REVENUE_2 = [
    rev("a", "2020-05"),  # 1 duplicate of part 1 row 2
    rev("a", "2020-04", "6.00"),  # 2 conflict
    rev("a", "2020-04", "7.00", orders=-3),  # 3 fails a rule: not part of the conflict
    rev("i", "2019-07", "1"),  # 4 fine
]

EXPECTED = {
    ("villages", 3): "duplicate: repeats village_code of villages.csv row 2 with identical values",
    ("villages", 4): "conflicting repeat: village_code repeated with different values",
    ("villages", 5): "conflicting repeat: village_code repeated with different values",
    ("villages", 6): "village_code is not 12 digits",
    ("villages", 7): "village_code is not 12 digits",
    ("villages", 8): "village_name is empty",
    ("villages", 9): "urban_rural_code is not one of 111, 112, 121, 122, 123, 210, 220",
    ("villages", 10): "households is not an integer",
    ("villages", 11): "households is negative",
    ("shops", 3): "duplicate: repeats shop_id of shops.csv row 2 with identical values",
    ("shops", 4): "conflicting repeat: shop_id repeated with different values",
    ("shops", 5): "conflicting repeat: shop_id repeated with different values",
    ("shops", 6): "village_code is not an accepted village of the register",
    ("shops", 7): "village_code is not an accepted village of the register",
    ("shops", 8): "platform is not one of taobao, tmall, 1688, xianyu, aliexpress, fliggy, hema",
    ("shops", 9): "opened_on is not a date YYYY-MM-DD",
    ("shops", 10): "closed_on is before opened_on",
    ("shops", 11): "shop_id is empty",
    ("shops", 13): "opened_on is not a date YYYY-MM-DD",
    ("revenue-1", 3): "conflicting repeat: shop_id month repeated with different values",
    ("revenue-1", 4): "shop_id is not an accepted shop of the registry",
    ("revenue-1", 5): "shop_id is not an accepted shop of the registry",
    ("revenue-1", 6): "month is outside the edition's window 2019-07..2020-06",
    ("revenue-1", 7): "month is outside the edition's window 2019-07..2020-06",
    ("revenue-1", 8): "month is not YYYY-MM",
    ("revenue-1", 9): "gmv_rmb is not a decimal with at most 2 places",
    ("revenue-1", 10): "gmv_rmb is not a decimal with at most 2 places",
    ("revenue-1", 12): "orders is negative",
    ("revenue-1", 13): "orders is not an integer",
    (
        "revenue-2",
        1,
    ): "duplicate: repeats shop_id month of revenue-1.csv row 2 with identical values",
    ("revenue-2", 2): "conflicting repeat: shop_id month repeated with different values",
    ("revenue-2", 3): "orders is negative",
}


@pytest.fixture(scope="module")
def rejected_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rejections") / "raw" / str(YEAR)
    write_csv(folder / "villages.csv", VILLAGES, VILLAGE_COLUMNS)
    write_csv(folder / "shops.csv", SHOPS, SHOP_COLUMNS)
    write_csv(folder / "revenue-1.csv", REVENUE_1, REVENUE_COLUMNS)
    write_csv(folder / "revenue-2.csv", REVENUE_2, REVENUE_COLUMNS)
    warehouse = folder.parents[1] / "taobao.duckdb"
    run_editions(folder.parent, warehouse, [YEAR])
    return warehouse


def test_each_bad_row_is_rejected_with_its_reason(rejected_run: Path) -> None:
    rows = read_table(rejected_run, "SELECT source, file, row_number, reason FROM rejected_rows")
    got = {
        (file.split(".")[0] if source == "revenue" else source, n): reason
        for source, file, n, reason in rows
    }
    assert got == EXPECTED


def test_record_keeps_the_original_values(rejected_run: Path) -> None:
    rows = read_table(
        rejected_run,
        "SELECT record FROM rejected_rows WHERE source = 'villages' AND row_number = 10",
    )
    record = json.loads(rows[0][0])
    assert record["households"] == "many" and record["village_code"] == GOOD[:-1] + "7"


def test_load_audit_balances_every_file(rejected_run: Path) -> None:
    audit = read_table(
        rejected_run,
        "SELECT file, rows_read, rows_accepted, rows_rejected FROM load_audit ORDER BY file",
    )
    assert audit == [
        ("revenue-1.csv", 13, 3, 10),
        ("revenue-2.csv", 4, 1, 3),
        ("shops.csv", 13, 3, 10),
        ("villages.csv", 11, 2, 9),
    ]


def test_accepted_rows_feed_the_metrics(rejected_run: Path) -> None:
    rows = read_table(
        rejected_run,
        "SELECT village_code, shops, revenue_rmb FROM village_metrics ORDER BY village_code",
    )
    # a: 10.00 (06) + 10.00 (05) - 99.50 (01); i: 1.00
    assert [(c, s, str(r)) for c, s, r in rows] == [(GOOD, 2, "-78.50"), (DUP, 1, "0.00")]
