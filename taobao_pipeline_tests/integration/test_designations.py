"""Each rule of the contract at its boundary, computed by the real pipeline."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from taobao_pipeline_tests.scenarios import TAOBAO_VILLAGES, TOWNS
from taobao_pipeline_tests.warehouse_queries import read_table

T = "330782101"


def metrics(warehouse: Path, code: str, edition: int = 2020) -> dict:
    rows = read_table(
        warehouse,
        f"SELECT * FROM village_metrics WHERE edition = {edition} AND village_code = '{code}'",
    )
    cols = [
        r[0]
        for r in read_table(
            warehouse,
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'village_metrics' "
            "ORDER BY column_index",
        )
    ]
    assert len(rows) == 1, code
    return dict(zip(cols, rows[0], strict=True))


@pytest.mark.parametrize("edition", [2018, 2019, 2020])
def test_designated_villages_are_exactly_the_expected(boundary_run: Path, edition: int) -> None:
    got = {
        r[0]
        for r in read_table(
            boundary_run, f"SELECT village_code FROM taobao_villages WHERE edition = {edition}"
        )
    }
    assert got == TAOBAO_VILLAGES


def test_revenue_threshold_is_inclusive_and_exact(boundary_run: Path) -> None:
    below, at = metrics(boundary_run, T + "201"), metrics(boundary_run, T + "202")
    assert below["revenue_rmb"] == Decimal("9999999.99")
    assert not below["meets_revenue"] and not below["is_taobao_village"]
    assert at["revenue_rmb"] == Decimal("10000000.00") and at["is_taobao_village"]


def test_99_and_100_active_shops(boundary_run: Path) -> None:
    assert metrics(boundary_run, T + "203")["active_shops"] == 99
    assert not metrics(boundary_run, T + "203")["meets_shops"]
    assert metrics(boundary_run, T + "204")["meets_shops"]


def test_density_just_under_and_at_ten_percent(boundary_run: Path) -> None:
    under, at = metrics(boundary_run, T + "205"), metrics(boundary_run, T + "206")
    assert under["active_shops"] == at["active_shops"] == 50
    assert not under["meets_shops"] and at["meets_shops"]
    assert at["shop_density"] == pytest.approx(0.1)


def test_zero_households_has_no_density(boundary_run: Path) -> None:
    fifty, hundred = metrics(boundary_run, T + "207"), metrics(boundary_run, T + "208")
    assert fifty["shop_density"] is None and not fifty["meets_shops"]
    assert hundred["is_taobao_village"]


def test_residents_committee_is_not_rural(boundary_run: Path) -> None:
    m = metrics(boundary_run, T + "150")
    assert m["meets_revenue"] and m["meets_shops"]
    assert not m["is_rural"] and not m["is_taobao_village"]


def test_opened_30_days_before_cutoff_counts_29_does_not(boundary_run: Path) -> None:
    assert metrics(boundary_run, T + "209")["active_shops"] == 100
    assert metrics(boundary_run, T + "210")["active_shops"] == 99
    assert metrics(boundary_run, T + "210")["shops"] == 100


def test_closed_on_cutoff_is_not_active_closed_after_is(boundary_run: Path) -> None:
    assert metrics(boundary_run, T + "211")["active_shops"] == 99
    assert metrics(boundary_run, T + "212")["active_shops"] == 100


def test_last_three_months_average_counts_only_open_months(boundary_run: Path) -> None:
    # opened in May: 2 orders over May-June is 1 a month; April's orders do not count
    assert metrics(boundary_run, T + "213")["active_shops"] == 100
    assert metrics(boundary_run, T + "214")["active_shops"] == 99
    # open all three months: 2 orders is under 1 a month, 3 is not
    assert metrics(boundary_run, T + "215")["active_shops"] == 99
    assert metrics(boundary_run, T + "216")["active_shops"] == 100


def test_net_refund_months_reduce_revenue_exactly(boundary_run: Path) -> None:
    assert metrics(boundary_run, T + "217")["revenue_rmb"] == Decimal("10000000.00")
    assert metrics(boundary_run, T + "218")["revenue_rmb"] == Decimal("9999999.99")
    assert not metrics(boundary_run, T + "218")["is_taobao_village"]


@pytest.mark.parametrize("edition", [2018, 2019, 2020])
def test_towns_by_villages_sales_rule_and_subdistricts(boundary_run: Path, edition: int) -> None:
    got = {
        r[0]
        for r in read_table(
            boundary_run, f"SELECT township_code FROM taobao_towns WHERE edition = {edition}"
        )
    }
    assert got == TOWNS[edition]


def test_sales_rule_is_strictly_more_than(boundary_run: Path) -> None:
    rows = read_table(
        boundary_run,
        "SELECT township_code, revenue_rmb, active_shops FROM taobao_towns "
        "WHERE edition = 2019 AND township_code IN ('330782104', '330782105')",
    )
    assert rows == [("330782104", Decimal("30000000.03"), 301)]


def test_first_edition_is_the_earliest_designation(boundary_run: Path) -> None:
    rows = read_table(boundary_run, "SELECT DISTINCT first_edition FROM taobao_villages")
    assert rows == [(2018,)]


def test_summaries_add_up(boundary_run: Path) -> None:
    national = read_table(
        boundary_run,
        "SELECT edition, taobao_villages, taobao_towns, revenue_rmb, active_shops, provinces "
        "FROM national_summary ORDER BY edition",
    )
    provinces = read_table(
        boundary_run,
        "SELECT edition, sum(taobao_villages), sum(taobao_towns), sum(revenue_rmb), "
        "sum(active_shops), count(*) FILTER (taobao_villages > 0) "
        "FROM province_summary GROUP BY edition ORDER BY edition",
    )
    assert national == provinces
    assert [r[1] for r in national] == [len(TAOBAO_VILLAGES)] * 3
    assert [r[2] for r in national] == [len(TOWNS[y]) for y in (2018, 2019, 2020)]
    # province 11 has villages but no shop: it is not in the summary
    assert read_table(
        boundary_run, "SELECT count(*) FROM province_summary WHERE province_code = '11'"
    ) == [(0,)]


def test_money_is_decimal_18_2_everywhere(boundary_run: Path) -> None:
    types = read_table(
        boundary_run,
        "SELECT DISTINCT data_type FROM duckdb_columns() WHERE column_name LIKE '%revenue_rmb'",
    )
    assert types == [("DECIMAL(18,2)",)]


def test_regions_and_the_share_outside_the_east(boundary_run: Path) -> None:
    regions = read_table(
        boundary_run,
        "SELECT province_code, region, taobao_villages FROM province_summary "
        "WHERE edition = 2020 ORDER BY 1",
    )
    assert regions == [("33", "East", len(TAOBAO_VILLAGES) - 1), ("51", "West", 1)]
    share = read_table(
        boundary_run, "SELECT share_outside_east FROM national_summary WHERE edition = 2020"
    )
    assert share == [(pytest.approx(1 / len(TAOBAO_VILLAGES)),)]
