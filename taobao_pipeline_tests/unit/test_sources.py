"""The sources' declarations and what follows from them: the Pandera schemas, the staged
tables, the source assets and the contract's column tables agree, and a column added to a
declaration reaches every one of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest
from pandera.errors import SchemaErrors

from taobao_pipeline.row_rules import schema
from taobao_pipeline.sources import (
    AN_INTEGER,
    INTEGER,
    REVENUE,
    SHOPS,
    SOURCES,
    VILLAGES,
    Field,
    RowRule,
    contract_tables,
)
from taobao_pipeline.tables import TABLES, _staged

DOCS = Path(__file__).parents[2] / "docs"
WINDOW = ["2019-07", "2019-08", "2019-09", "2019-10", "2019-11", "2019-12"] + [
    f"2020-{m:02d}" for m in range(1, 7)
]


def _reasons(frame: pl.DataFrame, rules) -> list[tuple[int, str]]:
    with pytest.raises(SchemaErrors) as caught:
        rules.validate(frame, lazy=True)
    cases = caught.value.failure_cases
    return sorted(zip(cases["index"].to_list(), cases["check"].to_list(), strict=True))


def test_the_contract_doc_shows_each_source_as_declared() -> None:
    """docs/data-contract.md holds each source's generated column table
    (``python -m taobao_pipeline.sources`` prints them)."""
    doc = (DOCS / "data-contract.md").read_text(encoding="utf-8")
    for heading, table in contract_tables().items():
        assert f"{heading}\n\n{table}\n" in doc, (
            f"docs/data-contract.md: {heading!r} is stale: python -m taobao_pipeline.sources"
        )


def test_the_contract_doc_states_every_reason_a_row_can_carry() -> None:
    doc = (DOCS / "data-contract.md").read_text(encoding="utf-8")
    for source in SOURCES.values():
        for f in source.fields:
            for rule in f.rules:
                assert f"`{rule.says(f.name, ['2019-07', '2020-06'])}`" in doc


def test_each_schema_has_every_declared_column_and_nothing_else() -> None:
    accepted = {"village_code": pl.Series(["x"]), "shop_id": pl.Series(["x"])}
    for source in SOURCES.values():
        columns = schema(source, accepted, WINDOW).columns
        assert list(columns) == [f.name for f in source.fields]
        for f in source.fields:
            assert columns[f.name].nullable == f.nullable


def test_the_staged_tables_are_the_declared_columns_as_loaded() -> None:
    for source in (VILLAGES, SHOPS):
        table = TABLES[source.staged_as]
        assert table.names == ["edition", *(f.name for f in source.fields)]
        assert table.key == ("edition", *source.key)
        for f in source.fields:
            column = table.column(f.name)
            assert (column.type, column.nullable, column.description) == (
                f.type.sql,
                f.nullable,
                f.description,
            )


def test_references_run_upstream_in_the_order_of_ingest() -> None:
    """Shops refer to villages, sales to shops, each by the upstream key."""
    assert SHOPS.refers == {"village_code": "villages"}
    assert REVENUE.refers == {"shop_id": "shops"}
    order = list(SOURCES)
    for source in SOURCES.values():
        for column, upstream in source.refers.items():
            assert order.index(upstream) < order.index(source.name)
            assert SOURCES[upstream].key == (column,)


def test_the_source_assets_follow_the_declarations() -> None:
    from taobao_pipeline.defs.assets.staged_inputs import INPUT_SPECS

    specs = {s.key.path[-1]: s for s in INPUT_SPECS}
    assert [d.asset_key.path[-1] for d in specs["shops"].deps] == ["villages"]
    assert [d.asset_key.path[-1] for d in specs["shop_sales"].deps] == ["shops"]
    assert "revenue*.*, one or several parts" in (specs["shop_sales"].description or "")


def test_each_declared_rule_gives_its_reason_written_in_the_contract() -> None:
    """One row per rule broken, each reason as the contract words it."""
    villages = pl.DataFrame(
        {
            "village_code": ["33078210120", "330782101201", "330782101202"],
            "village_name": ["a", "b", "c"],
            "township_name": [None, None, None],
            "county_name": [None, None, None],
            "prefecture_name": [None, None, None],
            "province_name": [None, None, None],
            "urban_rural_code": ["220", "999", "220"],
            "households": ["10", "10", "-3"],
        }
    )
    assert _reasons(villages, schema(VILLAGES)) == [
        (0, "village_code is not 12 digits"),
        (1, "urban_rural_code is not one of 111, 112, 121, 122, 123, 210, 220"),
        (2, "households is negative"),
    ]
    revenue = pl.DataFrame(
        {
            "shop_id": ["s1", "s9", "s1", "s1"],
            "month": ["2020-01", "2020-01", "2020-07", "2020-02"],
            "gmv_rmb": ["1.00", "1.00", "1.00", "1.005"],
            "orders": ["1", "1", "1", "1"],
        }
    )
    assert _reasons(revenue, schema(REVENUE, {"shop_id": pl.Series(["s1"])}, WINDOW)) == [
        (1, "shop_id is not an accepted shop of the registry"),
        (2, "month is outside the edition's window 2019-07..2020-06"),
        (3, "gmv_rmb is not a decimal with at most 2 places"),
    ]


def test_a_column_added_to_a_declaration_reaches_its_schema_and_staged_table() -> None:
    """Adding a column is one edit: the schema judges it and the staged table keeps it."""
    rooms = Field("rooms", "Rooms for rent", INTEGER, rules=(AN_INTEGER,))
    wider = dataclasses.replace(VILLAGES, fields=(*VILLAGES.fields, rooms))
    assert "rooms" in wider.typed and "rooms" in wider.required
    assert _staged(wider, "register village").column("rooms").type == "BIGINT"
    frame = pl.DataFrame({f.name: ["1"] for f in wider.fields}).with_columns(
        village_code=pl.lit("330782101201"), urban_rural_code=pl.lit("220"), rooms=pl.lit("two")
    )
    assert _reasons(frame, schema(wider)) == [(0, "rooms is not an integer")]


def test_a_rule_of_unknown_kind_is_refused_when_the_schema_is_built() -> None:
    odd = Field("households", "Households", rules=(RowRule("prime", "{column} is odd", "odd"),))
    with pytest.raises(ValueError, match="prime"):
        schema(dataclasses.replace(VILLAGES, fields=(odd,)))


def test_file_names_are_matched_as_declared() -> None:
    assert VILLAGES.owns(Path("villages.csv.gz"))
    assert not VILLAGES.owns(Path("villages_old.csv"))
    assert REVENUE.owns(Path("revenue-2.parquet")) and REVENUE.parts
    assert (VILLAGES.stem, REVENUE.stem) == ("villages", "revenue*")
