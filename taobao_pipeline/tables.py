"""Table definitions: the staging tables of an edition and the warehouse users query.

One statement of every column and its type. Money is DECIMAL(18,2) everywhere;
codes are text (leading zeros matter).
"""

from __future__ import annotations

import re

import duckdb

MONEY = "DECIMAL(18,2)"

# Accepted input of one edition (staging only: not published).
INPUT_TABLES: dict[str, str] = {
    "villages": """
        edition INTEGER NOT NULL, village_code VARCHAR NOT NULL, village_name VARCHAR NOT NULL,
        township_name VARCHAR, county_name VARCHAR, prefecture_name VARCHAR,
        province_name VARCHAR, urban_rural_code VARCHAR NOT NULL, households BIGINT NOT NULL
    """,
    "shops": """
        edition INTEGER NOT NULL, shop_id VARCHAR NOT NULL, village_code VARCHAR NOT NULL,
        platform VARCHAR NOT NULL, opened_on DATE NOT NULL, closed_on DATE,
        main_category VARCHAR
    """,
    # revenue rows are staged summed per shop: the computations need no more of them
    "shop_sales": f"""
        edition INTEGER NOT NULL, shop_id VARCHAR NOT NULL, sales_rows BIGINT NOT NULL,
        revenue_rmb {MONEY} NOT NULL, recent_orders BIGINT NOT NULL
    """,
}

_VILLAGE_COLUMNS = f"""
    edition INTEGER NOT NULL, village_code VARCHAR NOT NULL, village_name VARCHAR NOT NULL,
    township_code VARCHAR NOT NULL, township_name VARCHAR,
    county_code VARCHAR NOT NULL, county_name VARCHAR,
    prefecture_code VARCHAR NOT NULL, prefecture_name VARCHAR,
    province_code VARCHAR NOT NULL, province_name VARCHAR,
    urban_rural_code VARCHAR NOT NULL, households BIGINT NOT NULL,
    shops BIGINT NOT NULL, active_shops BIGINT NOT NULL, revenue_rmb {MONEY} NOT NULL,
    shop_density DOUBLE, is_rural BOOLEAN NOT NULL, meets_revenue BOOLEAN NOT NULL,
    meets_shops BOOLEAN NOT NULL, is_taobao_village BOOLEAN NOT NULL
"""

# The published tables, in the order they are published.
WAREHOUSE_TABLES: dict[str, str] = {
    "village_metrics": _VILLAGE_COLUMNS,
    "taobao_villages": _VILLAGE_COLUMNS + ", first_edition INTEGER",
    "taobao_towns": f"""
        edition INTEGER NOT NULL, township_code VARCHAR NOT NULL, township_name VARCHAR,
        county_code VARCHAR NOT NULL, county_name VARCHAR, province_code VARCHAR NOT NULL,
        province_name VARCHAR, taobao_villages BIGINT NOT NULL, revenue_rmb {MONEY} NOT NULL,
        active_shops BIGINT NOT NULL, is_subdistrict BOOLEAN NOT NULL,
        by_villages BOOLEAN NOT NULL, by_sales BOOLEAN NOT NULL
    """,
    "province_summary": f"""
        edition INTEGER NOT NULL, province_code VARCHAR NOT NULL, province_name VARCHAR,
        region VARCHAR, taobao_villages BIGINT NOT NULL, taobao_towns BIGINT NOT NULL,
        revenue_rmb {MONEY} NOT NULL, active_shops BIGINT NOT NULL,
        villages BIGINT NOT NULL, shops BIGINT NOT NULL,
        all_active_shops BIGINT NOT NULL, all_revenue_rmb {MONEY} NOT NULL
    """,
    "national_summary": f"""
        edition INTEGER NOT NULL, taobao_villages BIGINT NOT NULL, taobao_towns BIGINT NOT NULL,
        revenue_rmb {MONEY} NOT NULL, active_shops BIGINT NOT NULL, provinces BIGINT NOT NULL,
        share_outside_east DOUBLE,
        villages BIGINT NOT NULL, shops BIGINT NOT NULL,
        all_active_shops BIGINT NOT NULL, all_revenue_rmb {MONEY} NOT NULL
    """,
    "rejected_rows": """
        edition INTEGER NOT NULL, source VARCHAR NOT NULL, file VARCHAR NOT NULL,
        row_number BIGINT NOT NULL, reason VARCHAR NOT NULL, record VARCHAR
    """,
    "load_audit": """
        edition INTEGER NOT NULL, source VARCHAR NOT NULL, file VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL, rows_accepted BIGINT NOT NULL, rows_rejected BIGINT NOT NULL
    """,
}

# What each published edition was computed from (``fingerprints``): written by the publish
# itself, in the transaction that replaces the edition's tables; not staged.
PROVENANCE_TABLES: dict[str, str] = {
    "edition_provenance": """
        edition INTEGER NOT NULL, file VARCHAR NOT NULL, sha256 VARCHAR, bytes BIGINT,
        rules VARCHAR NOT NULL, code_version VARCHAR NOT NULL, run_id VARCHAR NOT NULL,
        published_at TIMESTAMP NOT NULL
    """,
}

# Computed per edition in staging, in dependency order.
COMPUTED_TABLES = (
    "village_metrics",
    "taobao_villages",
    "taobao_towns",
    "province_summary",
    "national_summary",
)


def ensure_tables(conn: duckdb.DuckDBPyConnection, tables: dict[str, str], catalog: str) -> None:
    """Create the tables ``catalog`` (the warehouse) lacks, and add the columns that a file
    written by an older version lacks. One catalog query when nothing is missing."""
    present: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = $c AND schema_name = 'main'",
        {"c": catalog},
    ).fetchall():
        present.setdefault(table, set()).add(column)
    for name, columns in tables.items():
        if name not in present:
            conn.execute(f'CREATE TABLE "{catalog}".main.{name} ({columns})')
            continue
        for column, sql_type in columns_of(name):
            if column not in present[name]:
                conn.execute(f'ALTER TABLE "{catalog}".main.{name} ADD COLUMN {column} {sql_type}')


# What each column means, for the Dagster UI's column schema and the README.
COLUMN_DOCS: dict[str, str] = {
    "edition": "Designation year; its window is the 12 months ending with the cut-off month",
    "village_code": "12-digit statistical division code of the village-level unit",
    "village_name": "Village name from the register",
    "township_code": "First 9 digits of the village code",
    "township_name": "Township name (most common spelling in the register)",
    "county_code": "First 6 digits of the village code",
    "county_name": "County name from the register",
    "prefecture_code": "First 4 digits of the village code",
    "prefecture_name": "Prefecture name from the register",
    "province_code": "First 2 digits of the village code",
    "province_name": "Province name from the register",
    "urban_rural_code": "Urban-rural classification code (111 ... 220)",
    "households": "Households in the village",
    "shops": "Accepted shops registered in the village",
    "active_shops": "Shops active at the cut-off: open 30 days, not closed, >= 1 order a month",
    "revenue_rmb": "Sales in RMB, exact DECIMAL(18,2); in summaries, of Taobao villages",
    "shop_density": "Active shops / households; empty when households is 0",
    "is_rural": "Village committee (digits 10-12 in 200-399), of an allowed urban-rural class",
    "meets_revenue": "Revenue >= RMB 10 million (configurable)",
    "meets_shops": ">= 100 active shops, or active shops >= 10% of households (configurable)",
    "is_taobao_village": "Rural, and meets the revenue and the shops criteria",
    "first_edition": "First edition in the warehouse in which the village was designated",
    "taobao_villages": "Number of Taobao villages",
    "taobao_towns": "Number of Taobao towns",
    "is_subdistrict": "Township digits 7-9 in 001-099 (街道)",
    "by_villages": "Designated for having >= 3 Taobao villages",
    "by_sales": "Designated by the sales rule (from 2019: revenue > RMB 30M, > 300 active shops)",
    "villages": "Register villages",
    "all_active_shops": "Active shops in all villages",
    "all_revenue_rmb": "Sales of all villages in RMB",
    "provinces": "Provinces with a Taobao village",
    "region": "East, Central, West or Northeast (National Bureau of Statistics)",
    "share_outside_east": "Share of Taobao villages in the Central, West and Northeast regions",
    "source": "Input: villages, shops or revenue",
    "file": "Input file name in the edition folder",
    "row_number": "Data row in the file, from 1 (header not counted)",
    "reason": "The rule the row broke",
    "record": "The row's values as delivered (trimmed), as JSON",
    "rows_read": "Data rows read from the file",
    "rows_accepted": "Rows loaded",
    "rows_rejected": "Rows in rejected_rows",
    "shop_id": "Shop identifier on the platform",
    "platform": "taobao, tmall, 1688, xianyu, aliexpress, fliggy or hema",
    "opened_on": "Date the shop opened",
    "closed_on": "Date the shop closed; empty while open",
    "main_category": "Main product category (optional)",
    "month": "Sales month, YYYY-MM",
    "gmv_rmb": "Sales of the month in RMB, exact; negative for net refunds",
    "orders": "Orders in the month",
    "sales_rows": "Accepted revenue rows (shop-months) of the shop",
    "recent_orders": "Orders in the last months of the window in which the shop was open",
    "sha256": "SHA-256 of the input file's content (empty: not recorded, so rerun next time)",
    "bytes": "Size of the input file in bytes",
    "rules": "JSON of the thresholds and cut-off month in force for the edition",
    "code_version": "Pipeline version and a digest of its source and SQL files",
    "run_id": "Dagster run that published the edition",
    "published_at": "When the edition was published (UTC)",
}


def columns_of(table: str) -> list[tuple[str, str]]:
    """(name, SQL type) of each column of a staged or warehouse table, from its definition."""
    definition = (INPUT_TABLES | WAREHOUSE_TABLES | PROVENANCE_TABLES)[table]
    parts = re.split(r",(?![^(]*\))", definition)  # not the comma of (18,2)
    columns = [p.strip().split(None, 1) for p in parts if p.strip()]
    return [(name, rest.removesuffix("NOT NULL").strip()) for name, rest in columns]
