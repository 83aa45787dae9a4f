"""The SQL registry: each statement reads exactly its registered staged inputs and takes
exactly its registered parameters (DuckDB refuses a missing table, a missing parameter
and a parameter the statement does not use)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from taobao_pipeline.computations import STATEMENTS, parameters
from taobao_pipeline.rules import Rules
from taobao_pipeline.sql import FOLDER, PREVIEWS, load
from taobao_pipeline.tables import COMPUTED_TABLES, TABLES

# the accepted revenue rows, as the revenue ingest registers them for shop_sales
ACCEPTED_REVENUE = (
    "CREATE TABLE accepted_revenue (shop_id VARCHAR, month VARCHAR, "
    "gmv_rmb DECIMAL(18,2), orders BIGINT)"
)


def _only(inputs: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    """A database holding just ``inputs`` (empty, as declared) and the criteria macros."""
    conn = duckdb.connect()
    conn.execute(load("criteria"))
    for name in inputs:
        conn.execute(ACCEPTED_REVENUE if name == "accepted_revenue" else TABLES[name].create_sql())
    return conn


@pytest.mark.parametrize("table", list(STATEMENTS))
def test_statement_runs_on_exactly_its_registered_inputs_and_parameters(table: str) -> None:
    statement = STATEMENTS[table]
    every = parameters(2020, Rules())
    given = {name: every[name] for name in statement.parameters}
    conn = _only(statement.inputs)
    conn.execute(statement.sql, given).fetchall()
    for missing in statement.inputs:  # each registered input is read
        conn = _only(tuple(i for i in statement.inputs if i != missing))
        with pytest.raises(duckdb.CatalogException):
            conn.execute(statement.sql, given).fetchall()
    conn = _only(statement.inputs)
    for name in statement.parameters:  # each registered parameter is needed
        with pytest.raises((duckdb.InvalidInputException, duckdb.BinderException)):
            conn.execute(statement.sql, {k: v for k, v in given.items() if k != name})
    unused = next(name for name in every if name not in statement.parameters)
    with pytest.raises((duckdb.InvalidInputException, duckdb.BinderException)):
        conn.execute(statement.sql, given | {unused: every[unused]})


def test_one_sql_file_per_computed_table() -> None:
    files = {p.stem for p in Path(FOLDER).glob("*.sql")}
    derived = {"official_reconciliation"}  # computed in the warehouse, not in staging
    assert files == {*COMPUTED_TABLES, *derived, "shop_sales", "criteria", *PREVIEWS}
    assert set(STATEMENTS) == {*COMPUTED_TABLES, "shop_sales"}


def test_top_villages_ranked_by_revenue_as_money_not_text() -> None:
    conn = duckdb.connect()
    conn.execute(
        "CREATE TABLE taobao_villages AS SELECT * FROM (VALUES "
        "('330782201201', 'a', 'c', 'p', 100, 9999999.99::DECIMAL(18,2)), "
        "('330782201202', 'b', 'c', 'p', 100, 120000000.00::DECIMAL(18,2))) "
        "t(village_code, village_name, county_name, province_name, active_shops, revenue_rmb)"
    )
    ranked = conn.sql(load("top_villages")).fetchall()
    assert [(r[-1], str(r[4])) for r in ranked] == [
        ("330782201202", "120000000.00"),
        ("330782201201", "9999999.99"),
    ]
