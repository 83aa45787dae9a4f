"""The contract's computations for one edition, in DuckDB SQL over its staged tables.

Each table's statement is a file of ``taobao_pipeline/sql/``; ``STATEMENTS`` registers,
for each, the staged tables it reads and the parameters it takes. Thresholds arrive as
parameters (``rules.Rules``) so that they can differ by edition. Money stays DECIMAL
throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

from taobao_pipeline.rules import Rules, window
from taobao_pipeline.sql import load
from taobao_pipeline.staging import Staging


@dataclass(frozen=True)
class Statement:
    """The SQL that computes ``table``, the staged tables it reads and its parameters."""

    table: str
    inputs: tuple[str, ...]
    parameters: tuple[str, ...]
    sql: str

    @classmethod
    def from_file(
        cls, table: str, inputs: tuple[str, ...], parameters: tuple[str, ...]
    ) -> Statement:
        """The statement of ``sql/<table>.sql``."""
        return cls(table, inputs, parameters, load(table))


_ACTIVITY = ("cutoff_date", "last_months", "min_days_open", "min_avg_orders")
_CRITERIA = ("allowed_codes", "min_revenue_rmb", "min_active_shops", "min_shop_share")
_TOWNS = (
    "town_min_villages",
    "town_sales_rule_from",
    "town_min_revenue_rmb",
    "town_min_active_shops",
    "subdistricts_excluded_from",
)

STATEMENTS: dict[str, Statement] = {
    s.table: s
    for s in (
        # run by the revenue ingest over its accepted rows (``accepted_revenue``)
        Statement.from_file(
            "shop_sales", ("accepted_revenue", "shops"), ("edition", "last_months")
        ),
        Statement.from_file(
            "village_metrics", ("villages", "shops", "shop_sales"), _ACTIVITY + _CRITERIA
        ),
        Statement.from_file("taobao_villages", ("village_metrics",), ()),
        Statement.from_file("taobao_towns", ("village_metrics",), _TOWNS),
        Statement.from_file("county_summary", ("village_metrics", "taobao_towns"), ()),
        Statement.from_file("taobao_clusters", ("county_summary",), ()),
        Statement.from_file(
            "province_summary", ("village_metrics", "taobao_towns", "provinces"), ()
        ),
        Statement.from_file(
            "national_summary",
            ("village_metrics", "taobao_towns", "taobao_clusters", "provinces"),
            ("edition",),
        ),
    )
}


def parameters(edition: int, rules: Rules) -> dict[str, object]:
    """Every SQL parameter of ``edition``: its window and thresholds."""
    r = rules.for_edition(edition)
    w = window(edition, rules)
    return {
        "edition": edition,
        "cutoff_date": w.cutoff_date,
        "last_months": w.months[-r.activity_months :],
        "min_days_open": r.min_days_open,
        "min_avg_orders": r.min_avg_orders,
        "allowed_codes": list(r.allowed_urban_rural_codes)
        if r.allowed_urban_rural_codes is not None
        else None,
        "min_revenue_rmb": r.min_revenue_rmb,
        "min_active_shops": r.min_active_shops,
        "min_shop_share": r.min_shop_share,
        "town_min_villages": r.town_min_villages,
        "town_sales_rule_from": r.town_sales_rule_from,
        "town_min_revenue_rmb": r.town_min_revenue_rmb,
        "town_min_active_shops": r.town_min_active_shops,
        "subdistricts_excluded_from": r.subdistricts_excluded_from,
    }


def statement_parameters(table: str, edition: int, rules: Rules) -> dict[str, object]:
    """The parameters ``table``'s statement takes, for ``edition``."""
    every = parameters(edition, rules)
    return {name: every[name] for name in STATEMENTS[table].parameters}


class StaleStaging(Exception):
    """A staged table was built under other rules than those in force."""


def sales_window(edition: int, rules: Rules) -> dict[str, object]:
    """The months the staged sales depend on: the window, and its last (recent) months."""
    return {
        "window": window(edition, rules).months,
        "last_months": parameters(edition, rules)["last_months"],
    }


def _require_sales_window(stg: Staging, edition: int, rules: Rules) -> None:
    """The staged sales were judged and summed for the window the rules now give."""
    staged, now = stg.note("shop_sales"), sales_window(edition, rules)
    if staged is not None and staged != now:
        raise StaleStaging(
            f"edition {edition}: the revenue was staged for the months "
            f"{staged['window'][0]}..{staged['window'][-1]} (recent: "
            f"{', '.join(staged['last_months'])}), the rules now ask for "
            f"{now['window'][0]}..{now['window'][-1]}: materialize shop_sales again"
        )


def compute(stg: Staging, table: str, edition: int, rules: Rules) -> int:
    """Replace ``table`` in an edition's staging with its computation; rows written."""
    statement = STATEMENTS[table]
    if "shop_sales" in statement.inputs:
        _require_sales_window(stg, edition, rules)
    return stg.write(table, statement.sql, statement_parameters(table, edition, rules))
