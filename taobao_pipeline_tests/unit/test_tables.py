"""The table declarations: the warehouse, its comments and the data dictionary follow them."""

from __future__ import annotations

import sys
from pathlib import Path

from taobao_pipeline.provinces import PROVINCES, REGIONS, aliases
from taobao_pipeline.tables import TABLES, data_dictionary

DICTIONARY = Path(__file__).parents[2] / "docs" / "data-dictionary.md"
CLI = Path(sys.executable).with_name("duckdb")


def test_data_dictionary_is_current() -> None:
    assert DICTIONARY.read_text() == data_dictionary(), (
        "docs/data-dictionary.md is stale: python -m taobao_pipeline.tables "
        "> docs/data-dictionary.md"
    )


def test_every_declared_column_is_described_and_typed() -> None:
    for table in TABLES.values():
        assert table.description and table.row, table.name
        assert set(table.key) <= set(table.names), table.name
        assert len(set(table.names)) == len(table.names), table.name
        for c in table.columns:
            assert c.description.strip(), (table.name, c.name)
        assert set(table.polars_schema()) == set(table.names)
    assert {c.type for c in TABLES["national_summary"].columns if "rmb" in c.name} == {
        "DECIMAL(18,2)"
    }


def test_provinces_stated_once() -> None:
    assert len(PROVINCES) == 31 and len({p.code for p in PROVINCES}) == 31
    assert {p.region for p in PROVINCES} == set(REGIONS)
    assert aliases()["广西自治区"] == "广西壮族自治区" and aliases()["内蒙"] == "内蒙古自治区"
