"""Each rejection reason, the repeats rule, and the balance of ``load_audit``."""

from __future__ import annotations

import json
from pathlib import Path

from taobao_pipeline_tests.bad_rows import DUP, GOOD
from taobao_pipeline_tests.warehouse_queries import read_table

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
