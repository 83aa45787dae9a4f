"""The 31 mainland provinces, stated once: code, name, short names and region.

Codes are those of GB/T 2260 (the first two digits of a statistical division code);
regions are the National Bureau of Statistics' four economic regions (2011). The
warehouse holds them as the ``provinces`` table, which the SQL joins; the published
lists' province spellings and the generator read them from here. ``write_provinces`` is
the one writer of that table, wherever it is kept (the warehouse, an edition's staging).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    #: spellings a published list may use instead of ``name``, the common one first
    short_names: tuple[str, ...]
    region: str


PROVINCES: tuple[Province, ...] = (
    Province("11", "北京市", ("北京",), "East"),
    Province("12", "天津市", ("天津",), "East"),
    Province("13", "河北省", ("河北",), "East"),
    Province("14", "山西省", ("山西",), "Central"),
    Province("15", "内蒙古自治区", ("内蒙古", "内蒙"), "West"),
    Province("21", "辽宁省", ("辽宁",), "Northeast"),
    Province("22", "吉林省", ("吉林",), "Northeast"),
    Province("23", "黑龙江省", ("黑龙江",), "Northeast"),
    Province("31", "上海市", ("上海",), "East"),
    Province("32", "江苏省", ("江苏",), "East"),
    Province("33", "浙江省", ("浙江",), "East"),
    Province("34", "安徽省", ("安徽",), "Central"),
    Province("35", "福建省", ("福建",), "East"),
    Province("36", "江西省", ("江西",), "Central"),
    Province("37", "山东省", ("山东",), "East"),
    Province("41", "河南省", ("河南",), "Central"),
    Province("42", "湖北省", ("湖北",), "Central"),
    Province("43", "湖南省", ("湖南",), "Central"),
    Province("44", "广东省", ("广东",), "East"),
    Province("45", "广西壮族自治区", ("广西",), "West"),
    Province("46", "海南省", ("海南",), "East"),
    Province("50", "重庆市", ("重庆",), "West"),
    Province("51", "四川省", ("四川",), "West"),
    Province("52", "贵州省", ("贵州",), "West"),
    Province("53", "云南省", ("云南",), "West"),
    Province("54", "西藏自治区", ("西藏",), "West"),
    Province("61", "陕西省", ("陕西",), "West"),
    Province("62", "甘肃省", ("甘肃",), "West"),
    Province("63", "青海省", ("青海",), "West"),
    Province("64", "宁夏回族自治区", ("宁夏",), "West"),
    Province("65", "新疆维吾尔自治区", ("新疆", "新疆维吾尔族自治区"), "West"),
)

REGIONS = ("East", "Central", "West", "Northeast")

#: full name by two-digit code
NAMES: dict[str, str] = {p.code: p.name for p in PROVINCES}
#: two-digit code by full name
CODES: dict[str, str] = {p.name: p.code for p in PROVINCES}


def aliases() -> dict[str, str]:
    """Every accepted spelling of a province -> its full name: the name, its short names,
    and the short name plus 自治区 for autonomous regions (广西自治区, 新疆自治区)."""
    out: dict[str, str] = {}
    for p in PROVINCES:
        out[p.name] = p.name
        for short in p.short_names:
            out[short] = p.name
        if p.name.endswith("自治区"):
            out[p.short_names[0] + "自治区"] = p.name
    return out


def provinces_frame() -> pl.DataFrame:
    """The ``provinces`` table's rows."""
    return pl.DataFrame(
        {
            "province_code": [p.code for p in PROVINCES],
            "province_name": [p.name for p in PROVINCES],
            "short_name": [p.short_names[0] for p in PROVINCES],
            "region": [p.region for p in PROVINCES],
        }
    )


def write_provinces(conn: duckdb.DuckDBPyConnection, table: str = "provinces") -> None:
    """Make ``table`` (a name as ``conn`` resolves it, e.g. ``wh.provinces``; created by the
    caller as declared in ``tables.py``) hold the provinces as stated here. Its rows are
    replaced only when they differ, so a table already right is not written."""
    conn.register("_provinces", provinces_frame().to_arrow())
    try:
        [(differ,)] = conn.execute(
            f"SELECT count(*) FROM ((SELECT * FROM _provinces EXCEPT SELECT * FROM {table})"
            f" UNION ALL (SELECT * FROM {table} EXCEPT SELECT * FROM _provinces))"
        ).fetchall()
        if differ:
            conn.execute(f"DELETE FROM {table}")
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _provinces")
    finally:
        conn.unregister("_provinces")
