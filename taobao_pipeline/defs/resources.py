"""Dagster resources: where the data lives, the designation rules in force, and the
quality thresholds that gate a publish."""

import os
from decimal import Decimal
from pathlib import Path

import dagster as dg

from taobao_pipeline.defaults import DEFAULT_RAW_DIR, DEFAULT_WAREHOUSE
from taobao_pipeline.defs.checks import Thresholds
from taobao_pipeline.rules import Rules, urban_rural_codes
from taobao_pipeline.warehouse import Warehouse


class PathsResource(dg.ConfigurableResource):
    """Where the data lives: the raw extracts folder and the published warehouse file."""

    raw_dir: str = DEFAULT_RAW_DIR
    warehouse_path: str = DEFAULT_WAREHOUSE

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
    """Designation thresholds and the cut-off month (the contract's defaults).

    Money and shares are decimal strings so that no float ever enters a threshold.
    ``edition_overrides`` maps an edition to the fields that differ in it, e.g.
    ``{"2021": {"cutoff_month": "5"}}``; urban-rural codes as text, e.g.
    ``{"allowed_urban_rural_codes": "210,220"}``.
    """

    cutoff_month: int = 6
    min_revenue_rmb: str = "10000000.00"
    min_active_shops: int = 100
    min_shop_share: str = "0.10"
    min_days_open: int = 30
    min_avg_orders: int = 1
    allowed_urban_rural_codes: list[str] | None = None
    town_min_villages: int = 3
    town_sales_rule_from: int = 2019
    town_min_revenue_rmb: str = "30000000.00"
    town_min_active_shops: int = 300
    subdistricts_excluded_from: int = 2020
    edition_overrides: dict[str, dict[str, str]] = {}

    def rules(self) -> Rules:
        """The configuration as ``Rules``."""
        ints = {f for f, t in Rules.__annotations__.items() if t == "int"}
        overrides = {
            int(edition): {k: int(v) if k in ints else v for k, v in fields.items()}
            for edition, fields in self.edition_overrides.items()
        }
        return Rules(
            cutoff_month=self.cutoff_month,
            min_revenue_rmb=Decimal(self.min_revenue_rmb),
            min_active_shops=self.min_active_shops,
            min_shop_share=Decimal(self.min_shop_share),
            min_days_open=self.min_days_open,
            min_avg_orders=self.min_avg_orders,
            allowed_urban_rural_codes=urban_rural_codes(self.allowed_urban_rural_codes)
            if self.allowed_urban_rural_codes is not None
            else None,
            town_min_villages=self.town_min_villages,
            town_sales_rule_from=self.town_sales_rule_from,
            town_min_revenue_rmb=Decimal(self.town_min_revenue_rmb),
            town_min_active_shops=self.town_min_active_shops,
            subdistricts_excluded_from=self.subdistricts_excluded_from,
            overrides=overrides,
        )


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
