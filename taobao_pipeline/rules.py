"""Designation rules: the contract's thresholds and edition calendar, as configuration.

Every number here is a default from the data contract; each may be overridden for
a given edition (for example a different cut-off month in one year).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
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
        changes = parsed(self.overrides.get(edition, {}))
        return dataclasses.replace(self, overrides={}, **changes)

    # the rules in words, for descriptions (tables, assets, checks): stated from the values
    @property
    def active_words(self) -> str:
        """What makes a shop active at the cut-off."""
        return (
            f"open {self.min_days_open} days, not closed, at least {self.min_avg_orders} "
            f"order{'s' if self.min_avg_orders != 1 else ''} a month over the last "
            f"{self.activity_months} months it was open"
        )

    @property
    def revenue_words(self) -> str:
        return f"revenue of at least {rmb(self.min_revenue_rmb)}"

    @property
    def shops_words(self) -> str:
        return (
            f"{self.min_active_shops} active shops or {percent(self.min_shop_share)} of households"
        )

    @property
    def town_words(self) -> str:
        """What makes a township a Taobao town."""
        return (
            f"at least {self.town_min_villages} Taobao villages or, from "
            f"{self.town_sales_rule_from}, revenue above {rmb(self.town_min_revenue_rmb)} and "
            f"more than {self.town_min_active_shops} active shops (sums over all its villages); "
            f"from {self.subdistricts_excluded_from} sub-districts are excluded"
        )

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Rules:
        """Rules from configured values (the resource's, a rules file's): money and shares
        as decimal text, integers as numbers or text, codes as a list or ``"210, 220"``,
        ``edition_overrides`` as edition -> such values. Unnamed fields keep the contract's
        defaults; an unknown name is an error."""
        values = dict(values)
        overrides = values.pop("edition_overrides", None) or {}
        rules = parsed(values)
        return cls(**rules, overrides={int(e): dict(v) for e, v in overrides.items()})


FIELDS = {f.name: f for f in dataclasses.fields(Rules) if f.name != "overrides"}
DEFAULT = Rules()  # the contract's


def parsed(values: Mapping[str, Any]) -> dict[str, Any]:
    """Configured values as the fields of ``Rules`` hold them."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown rules: {', '.join(unknown)} (known: {', '.join(FIELDS)})")
    out: dict[str, Any] = {}
    for name, value in values.items():
        default = getattr(DEFAULT, name)
        if value is None or name == "allowed_urban_rural_codes":
            out[name] = None if value is None else urban_rural_codes(value)
        elif isinstance(default, Decimal):
            if isinstance(value, float):  # no float ever enters a threshold
                raise ValueError(f'{name}: give {value} as text, e.g. "{value}"')
            out[name] = Decimal(str(value))
        else:
            out[name] = int(value)
    return out


def defaults_table() -> str:
    """The rules and their defaults (the contract's), as docs/data-contract.md lists them."""
    lines = ["| rule (field of the `rules` resource) | default |", "| --- | --- |"]
    for name in FIELDS:
        value = getattr(DEFAULT, name)
        shown = "any" if value is None else f"{value:,}" if isinstance(value, Decimal) else value
        lines.append(f"| `{name}` | {shown} |")
    return "\n".join(lines)


def rmb(amount: Decimal) -> str:
    """A threshold in words: ``RMB 10 million``."""
    millions = amount / 1_000_000
    if millions == millions.to_integral_value():
        return f"RMB {int(millions)} million"
    return f"RMB {amount:,.2f}"


def percent(share: Decimal) -> str:
    """A share in words: ``10%``."""
    return f"{(share * 100).normalize():f}%"


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
