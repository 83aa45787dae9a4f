"""A test edition in which each village sits on one boundary of the contract's rules.

Every village's shops are active (open two years before, one order in each of the last three
months) unless the scenario says otherwise; the village's whole revenue is booked on
its first shop in the first month of the window, so revenue is exactly what is asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from taobao_pipeline_tests.raw_files import shop, village, window

TEN_MILLION = Decimal("10000000.00")
PLENTY = Decimal("20000000.00")


@dataclass
class Edition:
    """Rows of one edition, built village by village."""

    edition: int
    villages: list[dict] = field(default_factory=list)
    shops: list[dict] = field(default_factory=list)
    revenue: list[dict] = field(default_factory=list)

    @property
    def months(self) -> list[str]:
        return window(self.edition)

    def add_shop(
        self,
        shop_id: str,
        code: str,
        opened_on: str | None = None,
        closed_on: str | None = None,
        last_orders: tuple[int, int, int] = (1, 1, 1),
    ) -> None:
        """A shop, by default open for the two years before the edition."""
        opened_on = opened_on or f"{self.edition - 2}-01-01"
        self.shops.append(shop(shop_id, code, opened_on, closed_on))
        for month, orders in zip(self.months[-3:], last_orders, strict=True):
            self.revenue.append(
                {"shop_id": shop_id, "month": month, "gmv_rmb": "0.00", "orders": orders}
            )

    def add_village(
        self,
        code: str,
        active: int,
        revenue: Decimal = PLENTY,
        households: int = 10_000,
        urc: str = "220",
    ) -> None:
        """A village with ``active`` active shops and exactly ``revenue`` in sales."""
        self.villages.append(village(code, households, urc=urc))
        for i in range(active):
            self.add_shop(f"{code}-{i}", code)
        self.book(f"{code}-0", revenue)

    def book(self, shop_id: str, amount: Decimal, month: int = 0) -> None:
        """Book ``amount`` of sales on ``shop_id`` in the window's month number ``month``."""
        self.revenue.append(
            {"shop_id": shop_id, "month": self.months[month], "gmv_rmb": str(amount), "orders": 0}
        )


def boundary_edition(edition: int) -> Edition:
    """Villages on each boundary (codes: county 330782, township by scenario group)."""
    e = Edition(edition)
    t = "330782101"  # a town (township digits 101)
    # revenue at 9,999,999.99 and at 10,000,000.00
    e.add_village(t + "201", 100, TEN_MILLION - Decimal("0.01"))
    e.add_village(t + "202", 100, TEN_MILLION)
    # 99 and 100 active shops (households large: density far under 10%)
    e.add_village(t + "203", 99)
    e.add_village(t + "204", 100)
    # density just under and at 10%
    e.add_village(t + "205", 50, households=501)
    e.add_village(t + "206", 50, households=500)
    # zero households: density is none; only the 100-shop route remains
    e.add_village(t + "207", 50, households=0)
    e.add_village(t + "208", 100, households=0)
    # a residents' committee (居委会) with everything else met
    e.add_village(t + "150", 150)
    # opened 29 and 30 days before the cut-off: 99 active shops plus one on the boundary
    cutoff_minus_30 = f"{edition}-05-31"  # the June cut-off date minus 30 days
    cutoff_minus_29 = f"{edition}-06-01"
    e.add_village(t + "209", 99)
    e.add_shop(t + "209-x", t + "209", opened_on=cutoff_minus_30)
    e.add_village(t + "210", 99)
    e.add_shop(t + "210-x", t + "210", opened_on=cutoff_minus_29)
    # closed on the cut-off date (not active) and the day after (active)
    e.add_village(t + "211", 99)
    e.add_shop(t + "211-x", t + "211", closed_on=f"{edition}-06-30")
    e.add_village(t + "212", 99)
    e.add_shop(t + "212-x", t + "212", closed_on=f"{edition}-07-01")
    # the pro-rated last-3-months average: opened mid-May, two months count
    e.add_village(t + "213", 99)
    e.add_shop(t + "213-x", t + "213", opened_on=f"{edition}-05-01", last_orders=(0, 1, 1))
    e.add_village(t + "214", 99)
    e.add_shop(t + "214-x", t + "214", opened_on=f"{edition}-05-01", last_orders=(5, 0, 1))
    # open all three months: 2 orders in 3 months is under 1 a month, 3 is not
    e.add_village(t + "215", 99)
    e.add_shop(t + "215-x", t + "215", last_orders=(0, 0, 2))
    e.add_village(t + "216", 99)
    e.add_shop(t + "216-x", t + "216", last_orders=(0, 1, 2))
    # net-refund months: the sum is exact, refunds included
    e.add_village(t + "217", 100, TEN_MILLION + Decimal("100.01"))
    e.book(t + "217-1", Decimal("-100.01"), month=1)
    e.add_village(t + "218", 100, TEN_MILLION + Decimal("100.00"))
    e.book(t + "218-1", Decimal("-100.01"), month=1)

    # towns: 3 Taobao villages make a town, 2 do not
    for code in ("330782102201", "330782102202", "330782102203"):
        e.add_village(code, 100)
    for code in ("330782103201", "330782103202"):
        e.add_village(code, 100)
    # the sales rule (from 2019): over RMB 30M and over 300 active shops, no Taobao village
    for i, code in enumerate(("330782104401", "330782104402", "330782104403", "330782104404")):
        e.add_village(code, 76 if i else 73, Decimal("7500000.01") if i else Decimal("7500000.00"))
    # just under the sales rule: exactly RMB 30M (not more than) with 301 active shops
    for i, code in enumerate(("330782105401", "330782105402", "330782105403", "330782105404")):
        e.add_village(code, 76 if i else 73, Decimal("7500000.00"))
    # a sub-district (街道, township digits 050) with 3 Taobao villages: a town until 2019
    for code in ("330782050201", "330782050202", "330782050203"):
        e.add_village(code, 100)
    # a village with no shops at all, in another province
    e.villages.append(village("110101001201", 300))
    # a Taobao village in the West (Sichuan)
    e.add_village("510104101201", 100)
    return e


# what the contract designates in ``boundary_edition``, whatever the edition
TAOBAO_VILLAGES = (
    {"330782101" + v for v in ("202", "204", "206", "208", "209", "212", "213", "216", "217")}
    | {"330782102201", "330782102202", "330782102203", "330782103201", "330782103202"}
    | {"330782050201", "330782050202", "330782050203"}
    | {"510104101201"}
)
TOWNS = {
    2018: {"330782101", "330782102", "330782050"},
    2019: {"330782101", "330782102", "330782050", "330782104"},
    2020: {"330782101", "330782102", "330782104"},
}
