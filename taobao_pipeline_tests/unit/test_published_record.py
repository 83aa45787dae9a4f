"""The published record: one sourced row per published number, and no stand-in in it."""

from __future__ import annotations

import polars as pl

from taobao_pipeline.generator.priors import STAND_INS, target_figure
from taobao_pipeline.provinces import NAMES as PROVINCES
from taobao_pipeline.published_record import FIGURES, published_table


def test_published_table_has_one_sourced_row_per_number() -> None:
    published = published_table()
    keys = published.select("edition", "measure")
    assert keys.height == keys.unique().height
    assert published.filter(pl.col("source") == "").height == 0
    assert set(published.columns) >= {"edition", "measure", "value", "source"}
    value = {(f.edition, f.measure): f.value for f in FIGURES}
    assert value[(2020, "active_shops")] == 2_960_000
    assert value[(2019, "revenue_rmb_villages_and_towns")] == 700_000_000_000
    assert value[(2014, f"province:{PROVINCES['33']}")] == 62
    # stand-ins live with the generator, never in the record
    assert not any(("planned" in f.source or "interpolated" in f.source) for f in FIGURES)
    stand_in = {(s.edition, s.measure) for s in STAND_INS}
    assert not stand_in & set(value)
    assert {e for e, m in stand_in if m == "taobao_villages"} == {2010, 2011, 2012}
    assert target_figure(2011, "taobao_villages") == 8
    assert target_figure(2020, "taobao_villages") == 5425
