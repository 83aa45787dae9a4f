"""Table definitions: the staging tables of an edition and the warehouse users query.

One statement of every column and its type. Money is DECIMAL(18,2) everywhere;
codes are text (leading zeros matter).
"""

from __future__ import annotations

MONEY = "DECIMAL(18,2)"

# Accepted input rows of one edition (staging only: not published).
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
    "revenue": f"""
        edition INTEGER NOT NULL, shop_id VARCHAR NOT NULL, month VARCHAR NOT NULL,
        gmv_rmb {MONEY} NOT NULL, orders BIGINT NOT NULL
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
        taobao_villages BIGINT NOT NULL, taobao_towns BIGINT NOT NULL,
        revenue_rmb {MONEY} NOT NULL, active_shops BIGINT NOT NULL,
        villages BIGINT NOT NULL, shops BIGINT NOT NULL,
        all_active_shops BIGINT NOT NULL, all_revenue_rmb {MONEY} NOT NULL
    """,
    "national_summary": f"""
        edition INTEGER NOT NULL, taobao_villages BIGINT NOT NULL, taobao_towns BIGINT NOT NULL,
        revenue_rmb {MONEY} NOT NULL, active_shops BIGINT NOT NULL, provinces BIGINT NOT NULL,
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

# Computed per edition in staging, in dependency order.
COMPUTED_TABLES = (
    "village_metrics",
    "taobao_villages",
    "taobao_towns",
    "province_summary",
    "national_summary",
)


def create_statements(tables: dict[str, str], schema: str = "main") -> list[str]:
    """``CREATE TABLE IF NOT EXISTS`` for each table in ``schema``."""
    return [
        f"CREATE TABLE IF NOT EXISTS {schema}.{name} ({columns})"
        for name, columns in tables.items()
    ]
