"""Designation rules: the contract's thresholds and edition calendar, as configuration.

Every number here is a default from the data contract; each may be overridden for
a given edition (for example a different cut-off month in one year).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

URBAN_RURAL_CODES = ("111", "112", "121", "122", "123", "210", "220")


@dataclass(frozen=True)
class Rules:
    """Thresholds and calendar of one edition's designation (the contract's defaults)."""

    cutoff_month: int = 6
    min_revenue_rmb: Decimal = Decimal("10000000.00")
    min_active_shops: int = 100
    min_shop_share: Decimal = Decimal("0.10")
    min_days_open: int = 30
    min_avg_orders: int = 1
    activity_months: int = 3
    allowed_urban_rural_codes: tuple[str, ...] | None = None
    town_min_villages: int = 3
    town_sales_rule_from: int = 2019
    town_min_revenue_rmb: Decimal = Decimal("30000000.00")
    town_min_active_shops: int = 300
    subdistricts_excluded_from: int = 2020
    # edition -> {field: value}: the thresholds that differ in that edition
    overrides: dict[int, dict[str, Any]] = field(default_factory=dict)

    def for_edition(self, edition: int) -> Rules:
        """The rules in force for ``edition``, with its overrides applied."""
        changes = dict(self.overrides.get(edition, {}))
        for name in ("min_revenue_rmb", "min_shop_share", "town_min_revenue_rmb"):
            if name in changes:
                changes[name] = Decimal(str(changes[name]))
        if changes.get("allowed_urban_rural_codes") is not None:
            changes["allowed_urban_rural_codes"] = urban_rural_codes(
                changes["allowed_urban_rural_codes"]
            )
        return dataclasses.replace(self, overrides={}, **changes)


def urban_rural_codes(codes: str | Iterable[str]) -> tuple[str, ...]:
    """Allowed urban-rural codes, from a list or from text such as ``"210, 220"`` (an
    override's value is text: taken whole, "220" would be the codes 2, 2 and 0)."""
    found = tuple(c.strip() for c in (codes.split(",") if isinstance(codes, str) else codes))
    unknown = [c for c in found if c not in URBAN_RURAL_CODES]
    if unknown:
        known = ", ".join(URBAN_RURAL_CODES)
        raise ValueError(f"allowed_urban_rural_codes: {', '.join(unknown)} not among {known}")
    return found


@dataclass(frozen=True)
class EditionWindow:
    """The 12-month sales window of an edition, ending with its cut-off month."""

    edition: int
    cutoff_month: int

    @property
    def cutoff_date(self) -> dt.date:
        """The last day of the cut-off month."""
        last = calendar.monthrange(self.edition, self.cutoff_month)[1]
        return dt.date(self.edition, self.cutoff_month, last)

    @property
    def months(self) -> list[str]:
        """The window's months as ``YYYY-MM``, oldest first."""
        out = []
        year, month = self.edition, self.cutoff_month
        for _ in range(12):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return out[::-1]


def window(edition: int, rules: Rules) -> EditionWindow:
    """The sales window of ``edition`` under ``rules``."""
    return EditionWindow(edition, rules.for_edition(edition).cutoff_month)
