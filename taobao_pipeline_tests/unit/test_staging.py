"""An edition's staging folder (Parquet files read as DuckDB views, replaced whole), and
the lookup of accepted keys that staged tables feed."""

from __future__ import annotations

from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest
from pandera.errors import SchemaErrors

from taobao_pipeline.row_rules import _one_of
from taobao_pipeline.staging import NotStaged, Staging

AUDIT = (
    "SELECT 2020 AS edition, $s AS source, 'f.csv' AS file, "
    "3 AS rows_read, 2 AS rows_accepted, 1 AS rows_rejected"
)


def _count(stg: Staging, table: str) -> int:
    return stg.conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_unstaged_tables_read_empty_with_their_columns(tmp_path: Path) -> None:
    stg = Staging(tmp_path / "2020", 2020)
    assert _count(stg, "village_metrics") == 0
    types = {name: kind for name, kind, *_ in stg.conn.execute("DESCRIBE shop_sales").fetchall()}
    assert types["revenue_rmb"] == "DECIMAL(18,2)"
    with pytest.raises(NotStaged, match="edition 2020: village_metrics has not been staged"):
        stg.require(["village_metrics", "load_audit"])


def test_writes_replace_whole_tables_and_cast_to_the_definition(tmp_path: Path) -> None:
    stg = Staging(tmp_path / "2020", 2020)
    rows = stg.write("load_audit", AUDIT, {"s": "villages"}, source="villages")
    assert rows == 1
    stg.write("load_audit", AUDIT, {"s": "shops"}, source="shops")
    assert _count(stg, "load_audit") == 2  # one part per source, read as one table
    stg.write("load_audit", AUDIT + " UNION ALL " + AUDIT, {"s": "shops"}, source="shops")
    assert _count(stg, "load_audit") == 3  # the shops part replaced, not appended to
    [(rows_read_type,)] = stg.conn.execute(
        "SELECT typeof(rows_read) FROM load_audit LIMIT 1"
    ).fetchall()
    assert rows_read_type == "BIGINT"  # the literal 3 is an INTEGER: cast to the table's type
    assert not list((tmp_path / "2020").glob("*.tmp-*"))
    stg.remove(["load_audit"], source="villages")
    assert _count(stg, "load_audit") == 2


def test_a_column_reads_what_was_staged_or_nothing(tmp_path: Path) -> None:
    stg = Staging(tmp_path / "2020", 2020)
    unstaged = stg.column("shops", "shop_id")
    assert unstaged.len() == 0 and unstaged.dtype == pl.String
    shops = pl.DataFrame(
        {
            "shop_id": ["S2", "S1"],
            "village_code": ["330782001201"] * 2,
            "platform": ["taobao"] * 2,
            "opened_on": ["2019-01-01"] * 2,
            "closed_on": [None, None],
            "main_category": [None, None],
        }
    ).with_columns(pl.col("opened_on").str.to_date(), pl.col("closed_on").cast(pl.Date))
    stg.write_frame("shops", shops)
    assert stg.column("shops", "shop_id").to_list() == ["S2", "S1"]


def test_another_staging_of_the_folder_sees_the_new_files(tmp_path: Path) -> None:
    first = Staging(tmp_path / "2020", 2020)
    frame = pl.DataFrame(
        {
            "source": ["villages"],
            "file": ["villages.csv"],
            "rows_read": [5],
            "rows_accepted": [5],
            "rows_rejected": [0],
        }
    )
    first.write_frame("load_audit", frame, "villages")
    second = Staging(tmp_path / "2020", 2020)
    assert second.conn.execute("SELECT edition, rows_read FROM load_audit").fetchall() == [
        (2020, 5)
    ]
    first.write_frame("load_audit", frame.with_columns(pl.lit(7).alias("rows_read")), "villages")
    third = Staging(tmp_path / "2020", 2020)
    assert third.conn.execute("SELECT rows_read FROM load_audit").fetchall() == [(7,)]


def test_accepted_key_check_is_exact_with_and_without_its_hash_join() -> None:
    """The reference check joins on hashes when the accepted keys' hashes are distinct and
    falls back to ``is_in`` otherwise (here: a key accepted twice); both judge alike."""
    values = pl.DataFrame({"shop_id": ["a", "b", "zz", None, "a "]})
    for accepted in (pl.Series(["a", "b", "c"]), pl.Series(["a", "b", "c", "a"])):
        schema = pa.DataFrameSchema(
            {"shop_id": pa.Column(None, [_one_of(accepted, "unknown shop")], nullable=True)}
        )
        with pytest.raises(SchemaErrors) as failed:
            schema.validate(values, lazy=True)
        assert sorted(failed.value.failure_cases["index"].to_list()) == [2, 4]
