"""Reading the extracts and judging their rows: file forms, the row rules, clear errors."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from pandera.errors import SchemaErrors

from taobao_pipeline.extracts import ExtractError, estimated_rows, open_extract
from taobao_pipeline.ingest import ingest_source
from taobao_pipeline.row_rules import schema
from taobao_pipeline.rules import DEFAULT
from taobao_pipeline.sources import ORDER, REVENUE, SHOPS, SOURCES, VILLAGES
from taobao_pipeline.staging import Staging
from taobao_pipeline.tables import TABLES
from taobao_pipeline.validation import judge_batch
from taobao_pipeline_tests.raw_files import (
    VILLAGE_COLUMNS,
)


def test_closing_before_opening_is_judged_alike_as_text_and_as_dates() -> None:
    dates = {
        "opened_on": ["2019-05-01", "2019-05-01", "2019-05-01", None, "2019-05-01"],
        "closed_on": ["2019-04-30", "2019-05-01", None, "2019-04-30", "2020-01-01"],
    }
    text = pl.DataFrame(
        {"shop_id": list("abcde"), "village_code": ["330782101201"] * 5, "platform": ["taobao"] * 5}
        | dates
    )
    typed = text.with_columns(pl.col("opened_on", "closed_on").str.to_date())
    shops = schema(SHOPS, {"village_code": pl.Series(["330782101201"])})

    def failures(frame: pl.DataFrame) -> list[tuple[int, str]]:
        with pytest.raises(SchemaErrors) as caught:
            shops.validate(frame, lazy=True)
        cases = caught.value.failure_cases
        return sorted(zip(cases["index"].to_list(), cases["check"].to_list(), strict=True))

    expected = [(0, "closed_on is before opened_on"), (3, "not_nullable")]
    assert failures(text) == failures(typed) == expected


def test_month_rules_name_each_bad_month_once() -> None:
    """The month rules run their regular expression only outside the window: every
    month still gets exactly the reason the contract gives it."""
    months = [f"2019-{m:02d}" for m in range(7, 13)] + [f"2020-{m:02d}" for m in range(1, 7)]
    values = ["2020-06", "2019-07", "2020-07", "2019-06", "2020-13", "2020-6", "June", None]
    frame = pl.DataFrame(
        {"shop_id": "a", "month": values, "gmv_rmb": "1.00", "orders": "1"},
        schema_overrides={"month": pl.String},
    )
    with pytest.raises(SchemaErrors) as caught:
        schema(REVENUE, {"shop_id": pl.Series(["a"])}, months).validate(frame, lazy=True)
    cases = caught.value.failure_cases
    found = sorted(zip(cases["index"].to_list(), cases["check"].to_list(), strict=True))
    outside = "month is outside the edition's window 2019-07..2020-06"
    assert found == [
        (2, outside),
        (3, outside),
        (4, "month is not YYYY-MM"),
        (5, "month is not YYYY-MM"),
        (6, "month is not YYYY-MM"),
        (7, "not_nullable"),
    ]


EDITION = 2020  # its default window: 2019-07..2020-06
# the key accepted upstream in every test: shop "a" in village 330782101201
UPSTREAM = {"villages": ("village_code", "330782101201"), "shops": ("shop_id", "a")}


def edition_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "raw" / str(EDITION)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def ingested(path: Path) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """``path`` (in ``edition_folder``) ingested as the pipeline ingests it, with the keys
    of ``UPSTREAM`` accepted upstream: the staged rows (revenue: the shops' summed sales,
    ``shop_sales``) and the (row, reason) of the rejected rows, in order."""
    source = next(s for s in SOURCES.values() if s.owns(path))
    stg = Staging(path.parent.parent.parent / "staging", EDITION)
    try:
        for upstream in ORDER[: ORDER.index(source.name)]:
            table = SOURCES[upstream].staged_as
            key, value = UPSTREAM[table]
            declared = {c: t for c, t in TABLES[table].polars_schema().items() if c != "edition"}
            row = {c: [value if c == key else None] for c in declared}
            stg.write_frame(table, pl.DataFrame(row, schema=declared))
        ingest_source(stg, path.parent.parent, EDITION, source.name, DEFAULT)
        staged = pl.read_parquet(stg.files("shop_sales" if source is REVENUE else source.staged_as))
        rejected = pl.read_parquet(stg.files("rejected_rows")).filter(
            pl.col("source") == source.name
        )
        return staged, rejected.select("row_number", "reason").rows()
    finally:
        stg.close()


def revenue_csv(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = edition_folder(tmp_path) / "revenue.csv"
    pl.DataFrame(rows).write_csv(path)
    return path


def extract_rows(path: Path, source) -> pl.DataFrame:
    """Every row of one extract as the ingest reads it (in batches), with its columns'
    names as the rules know them."""
    extract = open_extract(path, source, path.parent, rows=10_000)
    return pl.concat(list(extract.batches()))


def test_digits_of_other_scripts_are_rejected_not_lost(tmp_path: Path) -> None:
    """Full-width digits (common in Chinese exports) are not the contract's digits: their
    rows are rejected with the field's reason. Before, a full-width amount was accepted
    as an empty one, and left out of the village's revenue."""
    good = {"shop_id": "a", "month": "2020-06", "gmv_rmb": "12.50", "orders": "1"}
    rows = [
        good,
        good | {"month": "2020-05", "gmv_rmb": "１２.５"},
        good | {"month": "2020-04", "orders": "１"},
        good | {"month": "２０２０-０３"},
    ]
    sales, rejected = ingested(revenue_csv(tmp_path, rows))
    assert sales.select("sales_rows", "revenue_rmb").rows() == [(1, Decimal("12.50"))]
    assert rejected == [
        (2, "gmv_rmb is not a decimal with at most 2 places"),
        (3, "orders is not an integer"),
        (4, "month is not YYYY-MM"),
    ]


def test_a_village_code_of_full_width_digits_is_not_12_digits(tmp_path: Path) -> None:
    row = {
        "village_code": "330782101201",
        "village_name": "x",
        "township_name": "t",
        "county_name": "c",
        "prefecture_name": "p",
        "province_name": "z",
        "urban_rural_code": "220",
        "households": "10",
    }
    path = edition_folder(tmp_path) / "villages.csv"
    pl.DataFrame([row, row | {"village_code": "３３０７８２１０１２０２"}]).write_csv(path)
    villages, rejected = ingested(path)
    assert villages["village_code"].to_list() == ["330782101201"]
    assert rejected == [(2, "village_code is not 12 digits")]


def test_a_value_that_passes_the_rules_but_does_not_convert_stops_the_load() -> None:
    """Should a rule ever let through a value its type cannot hold, the load stops and
    names the row: an accepted row must never carry an empty amount in place of one."""
    rows = [{"shop_id": "a", "month": "2020-06", "gmv_rmb": "ten", "orders": "1"}]
    batch = pl.DataFrame(rows).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row"),
        pl.lit("revenue.csv", pl.Categorical).alias("_file"),
    )
    no_rules = pa.DataFrameSchema({}, name="revenue")
    with pytest.raises(RuntimeError, match=r"gmv_rmb passed the rules.*revenue.csv row 1: 'ten'"):
        judge_batch(batch, REVENUE, no_rules, None, set())


def test_an_extra_column_called_reason_is_only_part_of_the_record(tmp_path: Path) -> None:
    path = edition_folder(tmp_path) / "revenue.csv"
    path.write_text("shop_id,month,gmv_rmb,orders,reason\na,2019-01,1.00,1,refund\n")
    assert ingested(path)[1] == [(1, "month is outside the edition's window 2019-07..2020-06")]


def test_parquet_values_out_of_the_fields_range_are_rejected_rows(tmp_path: Path) -> None:
    """Native Parquet types the contract's fields cannot hold are rejected row by row:
    an unsigned integer above BIGINT, the smallest BIGINT as money (its absolute value
    overflows), and a Float32 amount, judged by the value it holds (1234567.875)."""
    path = edition_folder(tmp_path) / "revenue.parquet"
    pl.DataFrame(
        {
            "shop_id": "a",
            "month": ["2020-06", "2020-05", "2020-04", "2020-03"],
            "gmv_rmb": pl.Series([1.5, 2.0, 1234567.89, -(2**63) + 0.0], dtype=pl.Float32),
            "orders": pl.Series([1, 2**63 + 1, 1, 1], dtype=pl.UInt64),
        }
    ).write_parquet(path)
    sales, rejected = ingested(path)
    assert sales.select("shop_id", "sales_rows", "revenue_rmb", "recent_orders").rows() == [
        ("a", 1, Decimal("1.50"), 1)
    ]
    assert rejected == [
        (2, "orders is not an integer"),
        (3, "gmv_rmb is not a decimal with at most 2 places"),
        (4, "gmv_rmb is not a decimal with at most 2 places"),
    ]
    pl.DataFrame(
        {
            "shop_id": "a",
            "month": ["2020-06", "2020-05"],
            "gmv_rmb": pl.Series([-(2**63), 5], dtype=pl.Int64),
            "orders": 1,
        }
    ).write_parquet(path)
    assert ingested(path)[1] == [(1, "gmv_rmb is not a decimal with at most 2 places")]


def test_a_time_of_day_rejects_only_its_own_row(tmp_path: Path) -> None:
    path = edition_folder(tmp_path) / "shops.parquet"
    pl.DataFrame(
        {
            "shop_id": ["a", "b"],
            "village_code": "330782101201",
            "platform": "taobao",
            "opened_on": [dt.datetime(2018, 1, 1), dt.datetime(2018, 2, 1, 9, 30)],
            "closed_on": pl.Series([None, None], dtype=pl.Date),
        }
    ).write_parquet(path)
    shops, rejected = ingested(path)
    assert shops["shop_id"].to_list() == ["a"]
    assert rejected == [(2, "opened_on is not a date YYYY-MM-DD")]


def unreadable_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files that cannot be read as an extract, and what the error must say."""
    gz = folder / "revenue-corrupt.csv.gz"
    gz.write_bytes(gzip.compress(b"shop_id,month,gmv_rmb,orders\n" * 2000)[:-200] + b"\x00" * 200)
    twice = folder / "revenue-twice.csv"
    twice.write_text("shop_id,month,gmv_rmb,orders,shop_id\na,2020-06,1.00,1,b\n")
    reserved = folder / "revenue-reserved.csv"
    reserved.write_text("shop_id,month,gmv_rmb,orders,_row\na,2020-06,1.00,1,7\n")
    lists = folder / "revenue-lists.parquet"
    pl.DataFrame(
        {"shop_id": "a", "month": "2020-06", "gmv_rmb": "1.00", "orders": 1, "tags": [["x"]]}
    ).write_parquet(lists)
    return {
        "corrupt gzip": (gz, "unreadable CSV"),
        "a column twice": (twice, "repeated column names"),
        "a reserved name": (reserved, "reserved for the pipeline: _row"),
        "an extra column of lists": (lists, "cannot be read as text"),
    }


@pytest.mark.parametrize(
    "case", ["corrupt gzip", "a column twice", "a reserved name", "an extra column of lists"]
)
def test_unreadable_files_fail_naming_the_file(tmp_path: Path, case: str) -> None:
    path, message = unreadable_files(tmp_path)[case]
    with pytest.raises(ExtractError, match=message) as caught:
        extract_rows(path, REVENUE)
    assert path.name in str(caught.value)


def test_rows_are_estimated_without_reading_the_files(tmp_path: Path) -> None:
    rows = 200_000  # several MiB of CSV: more than the sample
    frame = pl.DataFrame(
        {
            "shop_id": [f"S{i:09d}" for i in range(rows)],
            "month": ["2020-01"] * rows,
            "gmv_rmb": [f"{i % 997}.{i % 100:02d}" for i in range(rows)],
            "orders": [str(i % 13) for i in range(rows)],
        }
    )
    frame.write_parquet(tmp_path / "revenue.parquet")
    frame.write_csv(tmp_path / "revenue.csv")
    with gzip.open(tmp_path / "revenue.csv.gz", "wb") as f:
        frame.write_csv(f)
    (tmp_path / "broken.csv.gz").write_bytes(b"not gzip at all")
    assert estimated_rows(tmp_path / "revenue.parquet") == rows
    assert estimated_rows(tmp_path / "revenue.csv") == pytest.approx(rows, rel=0.02)
    assert estimated_rows(tmp_path / "revenue.csv.gz") == pytest.approx(rows, rel=0.1)
    assert estimated_rows(tmp_path / "broken.csv.gz") == 0
    assert estimated_rows(tmp_path / "absent.parquet") == 0


@pytest.mark.parametrize("name", ["villages.csv", "villages.csv.gz"])
def test_gb18030_header_and_values_are_decoded(tmp_path: Path, name: str) -> None:
    """polars checks the values' UTF-8 itself, not the header: a GB18030 header (here an
    extra column in Chinese) must still send the file to the GB18030 reader."""
    header = ",".join(VILLAGE_COLUMNS) + ",备注"
    row = "110101001201,北京村,东华门街道,东城区,市辖区,北京市,220,100,新村"
    data = f"{header}\n{row}\n".encode("gb18030")
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    frame = extract_rows(path, VILLAGES)
    assert frame["village_name"].to_list() == ["北京村"]
    assert frame["备注"].to_list() == ["新村"]
