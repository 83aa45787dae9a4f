"""Dagster resources: where the data lives, the designation rules in force, and the
quality thresholds that gate a publish."""

import os
from decimal import Decimal
from pathlib import Path

import dagster as dg

from taobao_pipeline import budget
from taobao_pipeline.defaults import DEFAULT_RAW_DIR, DEFAULT_WAREHOUSE
from taobao_pipeline.defs.checks import Thresholds
from taobao_pipeline.rules import DEFAULT, Rules
from taobao_pipeline.warehouse import Warehouse


class PathsResource(dg.ConfigurableResource):
    """Where the data lives: the raw extracts folder and the published warehouse file; and
    how much memory a run may use to read it (``memory_budget``).

    ``memory_budget``: a size such as ``2GB``, ``1.5GiB`` or ``800MB`` (binary units), or
    empty for ``TAOBAO_MEMORY_BUDGET``, else the default (``budget``: the smaller of 2 GiB
    and a quarter of the machine's memory). The ingest's batches and every DuckDB query of
    the run keep within it, DuckDB spilling to disk beside the staging area beyond it.
    """

    raw_dir: str = DEFAULT_RAW_DIR
    warehouse_path: str = DEFAULT_WAREHOUSE
    memory_budget: str = ""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """The run's budget in force (a size that cannot be read fails the run, saying so)."""
        budget.configure(self.memory_budget)

    @classmethod
    def from_env(cls) -> "PathsResource":
        """Paths from ``TAOBAO_RAW_DIR`` / ``TAOBAO_WAREHOUSE``, else the defaults."""
        return cls(
            raw_dir=os.environ.get("TAOBAO_RAW_DIR", DEFAULT_RAW_DIR),
            warehouse_path=os.environ.get("TAOBAO_WAREHOUSE", DEFAULT_WAREHOUSE),
        )

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.warehouse_path)


class RulesResource(dg.ConfigurableResource):
    """Designation thresholds and the cut-off month; the defaults are the contract's
    (``rules.Rules``).

    Money and shares are decimal strings so that no float ever enters a threshold.
    ``edition_overrides`` maps an edition to the fields that differ in it, e.g.
    ``{"2021": {"cutoff_month": "5"}}``; urban-rural codes as text, e.g.
    ``{"allowed_urban_rural_codes": "210,220"}``.
    """

    cutoff_month: int = DEFAULT.cutoff_month
    min_revenue_rmb: str = str(DEFAULT.min_revenue_rmb)
    min_active_shops: int = DEFAULT.min_active_shops
    min_shop_share: str = str(DEFAULT.min_shop_share)
    min_days_open: int = DEFAULT.min_days_open
    min_avg_orders: int = DEFAULT.min_avg_orders
    activity_months: int = DEFAULT.activity_months
    allowed_urban_rural_codes: list[str] | None = DEFAULT.allowed_urban_rural_codes
    town_min_villages: int = DEFAULT.town_min_villages
    town_sales_rule_from: int = DEFAULT.town_sales_rule_from
    town_min_revenue_rmb: str = str(DEFAULT.town_min_revenue_rmb)
    town_min_active_shops: int = DEFAULT.town_min_active_shops
    subdistricts_excluded_from: int = DEFAULT.subdistricts_excluded_from
    edition_overrides: dict[str, dict[str, str]] = {}

    @classmethod
    def of(cls, rules: Rules) -> "RulesResource":
        """The resource configured with ``rules`` (a rules file's, say)."""
        values = {
            name: str(v) if isinstance(v, Decimal) else list(v) if isinstance(v, tuple) else v
            for name in cls.model_fields
            if name != "edition_overrides" and (v := getattr(rules, name)) is not None
        }
        overrides = {
            str(e): {
                k: ", ".join(v) if isinstance(v, tuple | list) else str(v) for k, v in o.items()
            }
            for e, o in rules.overrides.items()
        }
        return cls(**values, edition_overrides=overrides)

    def rules(self) -> Rules:
        """The configuration as ``Rules``."""
        return Rules.from_values(self.model_dump())


class QualityResource(dg.ConfigurableResource):
    """Tolerated share of rejected rows per source: above ``warn`` the check fails with
    WARN severity, above ``error`` with ERROR severity, and then the edition is not
    published (the quality gate of ``designate_and_publish``) unless ``publish_anyway``
    gives the operator's reason to publish it all the same (recorded in
    ``edition_provenance``)."""

    reject_warn_share: str = "0.01"
    reject_error_share: str = "0.05"
    publish_anyway: str = ""

    def thresholds(self, rules: Rules) -> Thresholds:
        """What the checks judge by: ``rules`` and these shares."""
        return Thresholds(rules, Decimal(self.reject_warn_share), Decimal(self.reject_error_share))
