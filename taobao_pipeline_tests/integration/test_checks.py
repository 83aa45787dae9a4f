"""The blocking checks judge the computation against their own statement of the rule: a
deliberately broken computation trips them, and the edition is not published."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from taobao_pipeline.computations import STATEMENTS
from taobao_pipeline.definitions import all_assets, all_checks
from taobao_pipeline.defs.resources import PathsResource, QualityResource, RulesResource
from taobao_pipeline.runner import run_editions
from taobao_pipeline.tables import PUBLISHED_TABLES
from taobao_pipeline_tests.warehouse_queries import read_table

BREAKS = [
    # a shop must be open 30 days: with < for <=, one opened exactly 30 days before is lost
    (
        "village_metrics",
        "village_metrics:active_shops_follow_rule",
        "s.opened_on <= $cutoff_date::DATE - $min_days_open::INTEGER",
        "s.opened_on < $cutoff_date::DATE - $min_days_open::INTEGER",
    ),
    # the revenue criterion with > for >=: a village of exactly RMB 10 million is dropped
    (
        "village_metrics",
        "taobao_villages:designations_follow_criteria",
        "meets_revenue_rule(revenue_rmb, $min_revenue_rmb::DECIMAL(18,2))",
        "revenue_rmb > $min_revenue_rmb::DECIMAL(18,2)",
    ),
    # the town rule with > for >=: a township of exactly 3 Taobao villages is dropped
    (
        "taobao_towns",
        "taobao_towns:towns_follow_rule",
        "taobao_villages >= $town_min_villages::BIGINT",
        "taobao_villages > $town_min_villages::BIGINT",
    ),
    # a cent too much in the national revenue
    (
        "national_summary",
        "national_summary:national_equals_provinces",
        "coalesce(sum(revenue_rmb) FILTER (is_taobao_village), 0)::DECIMAL(18,2) AS revenue_rmb",
        "(coalesce(sum(revenue_rmb) FILTER (is_taobao_village), 0) + 0.01)::DECIMAL(18,2) "
        "AS revenue_rmb",
    ),
    # the sub-district exclusion forgotten
    (
        "taobao_towns",
        "taobao_towns:towns_follow_rule",
        "AND NOT (is_subdistrict AND edition >= $subdistricts_excluded_from::INTEGER)",
        "AND $subdistricts_excluded_from::INTEGER IS NOT NULL",
    ),
]


@pytest.mark.parametrize(("table", "check", "rule", "broken"), BREAKS)
def test_a_broken_computation_trips_its_check_and_is_not_published(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table, check, rule, broken
) -> None:
    warehouse = tmp_path / "w.duckdb"
    run_editions(raw, warehouse, [2019, 2020])
    before = {t: read_table(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in PUBLISHED_TABLES}
    statement = STATEMENTS[table]
    assert rule in statement.sql
    monkeypatch.setitem(
        STATEMENTS, table, replace(statement, sql=statement.sql.replace(rule, broken))
    )
    result = dg.materialize(
        [*all_assets, *all_checks],
        partition_key="2020",
        resources={
            "paths": PathsResource(raw_dir=str(raw), warehouse_path=str(warehouse)),
            "rules": RulesResource(),
            "quality": QualityResource(),
        },
        raise_on_error=False,
    )
    evaluations = {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e
        for e in result.get_asset_check_evaluations()
    }
    assert not evaluations[check].passed, evaluations[check].metadata
    assert evaluations[check].severity == dg.AssetCheckSeverity.ERROR
    assert not result.success
    published = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert table not in published and "national_summary" not in published
    after = {t: read_table(warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in PUBLISHED_TABLES}
    assert after == before  # nothing published
