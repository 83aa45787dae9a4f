"""The national plan (scale 1.0) places its villages so that the published clusters and
counties come out, every other figure of the record unchanged."""

from __future__ import annotations

import polars as pl
import pytest

from taobao_pipeline.generator.geography import build_geography
from taobao_pipeline.generator.plan import EditionPlan, make_plans
from taobao_pipeline.generator.targets import edition_targets
from taobao_pipeline.published_record import AREA_CODES, FIGURES

EDITIONS = list(range(2009, 2023))
ZHIJIANG = "420583"  # 枝江市, Hubei


@pytest.fixture(scope="module")
def plans() -> dict[int, EditionPlan]:
    return {p.edition: p for p in make_plans(build_geography(1.0, 0), EDITIONS, 1.0, 0)}


def _by_county(plan: EditionPlan) -> dict[str, int]:
    designated = plan.units.filter(pl.col("designated"))
    counts = designated.group_by(pl.col("village_code").str.slice(0, 6).alias("c")).len()
    return dict(counts.rows())


def _figures(plan: EditionPlan) -> dict[str, float]:
    """The plan's county-level figures as the warehouse computes them."""
    county = _by_county(plan)
    inside = sum(n for n in county.values() if n >= 10)
    out: dict[str, float] = {
        "clusters": sum(n >= 10 for n in county.values()),
        "large_clusters": sum(n >= 30 for n in county.values()),
        "super_large_clusters": sum(n >= 100 for n in county.values()),
        "share_in_clusters": 100 * inside / sum(county.values()),
    }
    for measure, code in AREA_CODES.items():
        out[measure] = sum(n for c, n in county.items() if c.startswith(code))
    return out


def test_every_cluster_and_county_figure_of_the_record_comes_out(
    plans: dict[int, EditionPlan],
) -> None:
    checked = 0
    for f in FIGURES:
        if f.measure.split(":")[0] not in {
            "clusters",
            "large_clusters",
            "super_large_clusters",
            "share_in_clusters",
            "county",
            "prefecture",
        }:
            continue
        computed = _figures(plans[f.edition])[f.measure]
        if f.measure == "share_in_clusters":  # published in whole points: within one
            assert abs(computed - f.value) <= 1, (f.edition, f.measure, computed)
        else:
            assert computed == f.value, (f.edition, f.measure, computed)
        checked += 1
    assert checked == 21


def test_the_rest_of_the_record_holds(plans: dict[int, EditionPlan]) -> None:
    for e, plan in plans.items():
        t = edition_targets(e, 1.0)
        designated = plan.units.filter(pl.col("designated"))
        assert designated.height == t.villages and len(plan.towns) == t.towns, e
        provinces = designated.group_by(pl.col("village_code").str.slice(0, 2).alias("p")).len()
        assert dict(provinces.rows()) == t.provinces, e


def test_zhijiang_holds_a_cluster_in_the_latest_editions(plans: dict[int, EditionPlan]) -> None:
    for e in (2020, 2021, 2022):
        assert _by_county(plans[e]).get(ZHIJIANG, 0) >= 10, e


def test_clusters_grow_as_the_reports_tell(plans: dict[int, EditionPlan]) -> None:
    # the share inside clusters climbs, and the largest named clusters do not shrink
    shares = [_figures(plans[e])["share_in_clusters"] for e in range(2015, 2023)]
    assert shares == sorted(shares)
    for county in ("330782", "371721"):  # 义乌市, 曹县
        sizes = [_by_county(plans[e]).get(county, 0) for e in range(2017, 2023)]
        assert sizes == sorted(sizes), (county, sizes)
