"""The rejection scenario (a helper module of the tests, not a test module): an edition
whose rows break each rule of the contract once, with the repeats rule's cases."""

from __future__ import annotations

from taobao_pipeline_tests.raw_files import shop, village

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
