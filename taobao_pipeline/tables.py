"""Every table, declared once: its columns (type, nullability, description), key and meaning.

The staged tables of an edition and the warehouse users query are both stated here, as
data. From these declarations come the DDL (``create_sql``), the polars types
(``polars_schema``), the Dagster column schema (``assets.metadata``), the warehouse's
``COMMENT ON TABLE``/``COMMENT ON COLUMN`` (``comment_sql``) and ``docs/data-dictionary.md``
(``data_dictionary``). Money is DECIMAL(18,2) everywhere; codes are text (leading zeros
matter).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import duckdb
import polars as pl

from taobao_pipeline.rules import DEFAULT as R
from taobao_pipeline.rules import rmb
from taobao_pipeline.sources import SHOPS, SOURCES, VILLAGES, Source

MONEY = "DECIMAL(18,2)"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool
    description: str


@dataclass(frozen=True)
class Table:
    name: str
    #: what one row is ("edition x register village")
    row: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column_sql(self) -> str:
        """The column list of a ``CREATE TABLE``."""
        return ", ".join(
            f"{c.name} {c.type}{'' if c.nullable else ' NOT NULL'}" for c in self.columns
        )

    def create_sql(self, qualified_name: str | None = None) -> str:
        return f"CREATE TABLE {qualified_name or self.name} ({self.column_sql()})"

    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: POLARS_TYPES[c.type] for c in self.columns}

    def comment_sql(self, qualified_name: str) -> Iterator[tuple[str | None, str]]:
        """(column or None for the table, COMMENT statement) of the table and each column."""
        yield None, f"COMMENT ON TABLE {qualified_name} IS {_quote(self.comment)}"
        for c in self.columns:
            yield c.name, f"COMMENT ON COLUMN {qualified_name}.{c.name} IS {_quote(c.description)}"

    @property
    def comment(self) -> str:
        return f"{self.description} One row per {self.row}."


POLARS_TYPES: dict[str, pl.DataType] = {
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "DOUBLE": pl.Float64,
    "BOOLEAN": pl.Boolean,
    "VARCHAR": pl.String,
    "DATE": pl.Date,
    "TIMESTAMP WITH TIME ZONE": pl.Datetime("us", "UTC"),
    MONEY: pl.Decimal(18, 2),
    "DECIMAL(38,2)": pl.Decimal(38, 2),
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# What a column name means wherever it appears; a table may say more of its own column.
MEANING: dict[str, tuple[str, str]] = {
    "edition": (
        "INTEGER",
        "Designation year; its window is the 12 months ending with the cut-off month",
    ),
    "township_code": ("VARCHAR", "First 9 digits of the village code"),
    "county_code": ("VARCHAR", "First 6 digits of the village code"),
    "prefecture_code": ("VARCHAR", "First 4 digits of the village code"),
    "province_code": ("VARCHAR", "First 2 digits of the village code (GB/T 2260)"),
    "shops": ("BIGINT", "Accepted shops registered in the village"),
    "active_shops": (
        "BIGINT",
        f"Shops active at the cut-off: {R.active_words}",
    ),
    "revenue_rmb": (MONEY, "Sales of the shops in RMB, exact"),
    "shop_density": ("DOUBLE", "Active shops / households; empty when households is 0"),
    "is_rural": (
        "BOOLEAN",
        "Village committee (digits 10-12 in 200-399), of an allowed urban-rural class",
    ),
    "meets_revenue": ("BOOLEAN", f"Revenue of at least {rmb(R.min_revenue_rmb)} (configurable)"),
    "meets_shops": (
        "BOOLEAN",
        f"At least {R.shops_words} (configurable)",
    ),
    "is_taobao_village": ("BOOLEAN", "Rural, and meets the revenue and the shops criteria"),
    "first_edition": (
        "INTEGER",
        "First edition in the warehouse in which the village was designated",
    ),
    "taobao_villages": ("BIGINT", "Number of Taobao villages"),
    "taobao_towns": ("BIGINT", "Number of Taobao towns"),
    "is_subdistrict": ("BOOLEAN", "Township digits 7-9 in 001-099 (街道)"),
    "by_villages": (
        "BOOLEAN",
        f"Designated for having at least {R.town_min_villages} Taobao villages",
    ),
    "by_sales": (
        "BOOLEAN",
        f"Designated by the sales rule (from {R.town_sales_rule_from}: revenue above "
        f"{rmb(R.town_min_revenue_rmb)} and more than {R.town_min_active_shops} active shops)",
    ),
    "villages": ("BIGINT", "Register villages"),
    "all_active_shops": ("BIGINT", "Active shops in all villages"),
    "all_revenue_rmb": (MONEY, "Sales of all villages in RMB"),
    "provinces": ("BIGINT", "Provinces with a Taobao village"),
    "region": ("VARCHAR", "East, Central, West or Northeast (National Bureau of Statistics)"),
    "share_outside_east": (
        "DOUBLE",
        "Share of Taobao villages in the Central, West and Northeast regions",
    ),
    # AliResearch's clusters, with one county-level unit standing in for "adjoining"
    "tier": (
        "VARCHAR",
        "AliResearch's cluster tier of the county-level unit's Taobao villages: cluster "
        "(>= 10), large (>= 30) or super_large (>= 100); empty below 10. The unit stands in for "
        "'adjoining' villages: the contract carries no coordinates",
    ),
    "clusters": (
        "BIGINT",
        "Taobao village clusters: county-level units with >= 10 Taobao villages (the unit "
        "stands in for 'adjoining')",
    ),
    "large_clusters": ("BIGINT", "Large clusters: county-level units with >= 30 Taobao villages"),
    "super_large_clusters": (
        "BIGINT",
        "Super-large clusters: county-level units with >= 100 Taobao villages",
    ),
    "villages_in_clusters": ("BIGINT", "Taobao villages in clusters (units with >= 10)"),
    "share_in_clusters": (
        "DOUBLE",
        "Share of the edition's Taobao villages that lie in clusters; empty without Taobao "
        "villages",
    ),
    "source": ("VARCHAR", "Input: villages, shops or revenue"),
    "file": ("VARCHAR", "Input file name in the edition folder"),
    "row_number": ("BIGINT", "Data row in the file, from 1 (header not counted)"),
    "reason": ("VARCHAR", "The rule the row broke"),
    "record": ("VARCHAR", "The row's values as delivered (trimmed), as JSON"),
    "rows_read": ("BIGINT", "Data rows read from the file"),
    "rows_accepted": ("BIGINT", "Rows loaded"),
    "rows_rejected": ("BIGINT", "Rows in rejected_rows"),
    "sales_rows": ("BIGINT", "Accepted revenue rows (shop-months) of the shop"),
    "recent_orders": (
        "BIGINT",
        "Orders in the last months of the window in which the shop was open",
    ),
    # the published lists
    "province": ("VARCHAR", "Province as listed, normalized to its full name"),
    "prefecture": ("VARCHAR", "Prefecture as listed, normalized"),
    "county": ("VARCHAR", "County as listed, normalized"),
    "township": ("VARCHAR", "Township as listed, normalized"),
    "village": ("VARCHAR", "Village as listed, normalized"),
    "main_products": ("VARCHAR", "Main products as listed"),
    "province_original": ("VARCHAR", "Province exactly as written in the list"),
    "prefecture_original": ("VARCHAR", "Prefecture exactly as written in the list"),
    "county_original": ("VARCHAR", "County exactly as written in the list"),
    "township_original": ("VARCHAR", "Township exactly as written in the list"),
    "village_original": ("VARCHAR", "Village exactly as written in the list"),
    "source_file": ("VARCHAR", "The list's file name"),
}


# the inputs' columns mean what their sources declare
MEANING |= {
    f.name: (f.type.sql, f.description)
    for source in SOURCES.values()
    for f in source.fields
    if f.name not in MEANING
}


def col(
    name: str, nullable: bool = True, description: str | None = None, type: str | None = None
) -> Column:  # noqa: A002
    """A column with its usual type and meaning (``MEANING``), unless given here."""
    usual_type, meaning = MEANING.get(name, (None, None))
    sql_type = type or usual_type
    text = description or meaning
    if sql_type is None or text is None:
        raise KeyError(f"column {name}: no type or description")
    return Column(name, sql_type, nullable, text)


def cols(names: str, nullable: bool = False) -> tuple[Column, ...]:
    """Several columns of usual type and meaning, named in one space-separated string."""
    return tuple(col(n, nullable) for n in names.split())


_VILLAGE_COLUMNS = (
    *cols("edition village_code village_name township_code"),
    col("township_name"),
    col("county_code", False),
    col("county_name"),
    col("prefecture_code", False),
    col("prefecture_name"),
    col("province_code", False),
    col("province_name"),
    *cols("urban_rural_code households shops active_shops revenue_rmb"),
    col("shop_density"),
    *cols("is_rural meets_revenue meets_shops is_taobao_village"),
)
_OF_TAOBAO = "of its Taobao villages"


def _staged(source: Source, row: str) -> Table:
    """The staged table of ``source``: its declared columns, as loaded, per edition."""
    return Table(
        source.staged_as,
        f"edition x accepted {row}",
        f"The accepted rows of {source.description} (staging only).",
        (
            col("edition", False),
            *(Column(f.name, f.type.sql, f.nullable, f.description) for f in source.fields),
        ),
        ("edition", *source.key),
    )


TABLE_LIST: tuple[Table, ...] = (
    # --- accepted input of one edition (staging only: not published) -----------------
    _staged(VILLAGES, "register village"),
    _staged(SHOPS, "shop"),
    Table(
        "shop_sales",
        "edition x shop with an accepted revenue row",
        "The accepted monthly sales rows, summed per shop: what the computations need of "
        "them (staging only).",
        (
            *cols("edition shop_id sales_rows"),
            col(
                "revenue_rmb",
                False,
                "Sales of the shop over the window in RMB, exact; "
                "negative months (net refunds) included",
            ),
            col("recent_orders", False),
        ),
        ("edition", "shop_id"),
    ),
    # --- computed per edition, in dependency order ----------------------------------------
    Table(
        "village_metrics",
        "edition x register village",
        "Each register village's shops, active shops, revenue, density and the three "
        "criteria of a Taobao village.",
        _VILLAGE_COLUMNS,
        ("edition", "village_code"),
    ),
    Table(
        "taobao_villages",
        "edition x designated village",
        "The villages designated Taobao villages: rural village committees with "
        f"{R.revenue_words} and {R.shops_words}.",
        (*_VILLAGE_COLUMNS, col("first_edition")),
        ("edition", "village_code"),
    ),
    Table(
        "taobao_towns",
        "edition x designated township",
        f"Townships designated Taobao towns: {R.town_words}.",
        (
            *cols("edition township_code"),
            col("township_name"),
            col("county_code", False),
            col("county_name"),
            col("province_code", False),
            col("province_name"),
            col("taobao_villages", False),
            col("revenue_rmb", False, "Sales of all village-level units of the township, RMB"),
            col("active_shops", False, "Active shops in all village-level units of the township"),
            *cols("is_subdistrict by_villages by_sales"),
        ),
        ("edition", "township_code"),
    ),
    Table(
        "county_summary",
        "edition x county-level unit with a Taobao village or town",
        "Taobao villages and towns per county-level unit (county, county-level city or "
        "district; a prefecture without counties counts as one), with the sales and active "
        "shops of its Taobao villages and AliResearch's cluster tier.",
        (
            *cols("edition county_code"),
            col("county_name"),
            col("prefecture_code", False),
            col("prefecture_name"),
            col("province_code", False),
            col("province_name"),
            *cols("taobao_villages taobao_towns"),
            col("revenue_rmb", False, f"Sales {_OF_TAOBAO} in RMB"),
            col("active_shops", False, f"Active shops {_OF_TAOBAO}"),
            col("tier"),
        ),
        ("edition", "county_code"),
    ),
    Table(
        "taobao_clusters",
        "edition x county-level unit with >= 10 Taobao villages",
        "AliResearch's Taobao village clusters (淘宝村集群): 10 or more adjoining Taobao "
        "villages, large (大型) from 30, super-large (超大型) from 100. The contract carries no "
        "coordinates, so one county-level unit stands in for 'adjoining': a cluster is a unit "
        "with >= 10 Taobao villages.",
        (
            *cols("edition county_code"),
            col("county_name"),
            col("prefecture_code", False),
            col("prefecture_name"),
            col("province_code", False),
            col("province_name"),
            col("taobao_villages", False),
            col("tier", False),
            col("is_large", False, "Large cluster: >= 30 Taobao villages", type="BOOLEAN"),
            col(
                "is_super_large",
                False,
                "Super-large cluster: >= 100 Taobao villages",
                type="BOOLEAN",
            ),
            col("taobao_towns", False),
            col("revenue_rmb", False, f"Sales {_OF_TAOBAO} in RMB"),
            col("active_shops", False, f"Active shops {_OF_TAOBAO}"),
            col(
                "share_of_villages",
                False,
                "Its Taobao villages / the edition's Taobao villages",
                type="DOUBLE",
            ),
        ),
        ("edition", "county_code"),
    ),
    Table(
        "province_summary",
        "edition x province with any shop",
        "Taobao villages and towns per province, with the figures of all its villages.",
        (
            *cols("edition province_code"),
            col("province_name"),
            col("region"),
            *cols("taobao_villages taobao_towns"),
            col("revenue_rmb", False, f"Sales {_OF_TAOBAO} in RMB"),
            col("active_shops", False, f"Active shops {_OF_TAOBAO}"),
            *cols("villages shops all_active_shops all_revenue_rmb"),
        ),
        ("edition", "province_code"),
    ),
    Table(
        "national_summary",
        "edition",
        "The national figures of the edition: Taobao villages and towns, their sales and "
        "active shops, the figures of all villages, and AliResearch's clusters by tier (one "
        "county-level unit standing in for 'adjoining').",
        (
            *cols("edition taobao_villages taobao_towns"),
            col("revenue_rmb", False, "Sales of the shops in Taobao villages in RMB"),
            col("active_shops", False, "Active shops in Taobao villages"),
            col("provinces", False),
            col("share_outside_east"),
            *cols("villages shops all_active_shops all_revenue_rmb"),
            col(
                "revenue_rmb_villages_and_towns",
                False,
                "Sales of the shops in Taobao villages or in Taobao towns, each once (the "
                "scope of the 2019 report), RMB",
                type=MONEY,
            ),
            *cols("clusters large_clusters super_large_clusters villages_in_clusters"),
            col("share_in_clusters"),
        ),
        ("edition",),
    ),
    # --- per source of each edition, from the ingest ---------------------------------------
    Table(
        "rejected_rows",
        "rejected input row",
        "Every input row the contract's rules refused, with its file, row number, the rule "
        "it broke and its original values.",
        (*cols("edition source file row_number reason"), col("record")),
        ("edition", "source", "file", "row_number"),
    ),
    Table(
        "load_audit",
        "edition x input file",
        "Rows read, accepted and rejected per input file: rows_read = rows_accepted + "
        "rows_rejected.",
        cols("edition source file rows_read rows_accepted rows_rejected"),
        ("edition", "source", "file"),
    ),
    # --- warehouse only ---------------------------------------------------------------
    Table(
        "reconciliation",
        "edition x published measure",
        "The computed figures beside the published record (published_record.py): only "
        "figures a source published; counts must match exactly, money and shops within 1%, "
        "the share of villages in clusters within one point.",
        (
            col("edition", False),
            col(
                "measure",
                False,
                "taobao_villages, taobao_towns, revenue_rmb, active_shops, "
                "revenue_rmb_villages_and_towns, clusters, large_clusters, "
                "super_large_clusters, share_in_clusters (percent), province:<name>, "
                "county:<name> or prefecture:<name> (Taobao villages; matched by code)",
                type="VARCHAR",
            ),
            col("published", False, "The published value", type="DECIMAL(38,2)"),
            col(
                "computed",
                False,
                "The warehouse's value (0 when nothing was computed)",
                type="DECIMAL(38,2)",
            ),
            col("difference", False, "computed - published", type="DECIMAL(38,2)"),
            col("relative_difference", False, "(computed - published) / published", type="DOUBLE"),
            col(
                "within_tolerance",
                False,
                "|difference| <= tolerance x published + absolute_tolerance",
                type="BOOLEAN",
            ),
            col(
                "tolerance",
                False,
                "Relative tolerance: 0 for counts, 0.01 for money and shops",
                type="DOUBLE",
            ),
            col(
                "absolute_tolerance",
                False,
                "Difference allowed in the measure's unit: 1 (percentage point) for "
                "share_in_clusters, 0 otherwise",
                type="DECIMAL(38,2)",
            ),
            col(
                "source",
                False,
                "Where the figure was published (report, article, URL)",
                type="VARCHAR",
            ),
            col(
                "note",
                False,
                "How the figure was read from its source; empty if plain",
                type="VARCHAR",
            ),
        ),
        ("edition", "measure"),
    ),
    Table(
        "provinces",
        "mainland province",
        "The 31 mainland provinces (provinces.py): code, name, short name and economic region.",
        (
            col("province_code", False),
            col("province_name", False),
            col("short_name", False, "Short name (浙江 for 浙江省)", type="VARCHAR"),
            col("region", False),
        ),
        ("province_code",),
    ),
    Table(
        "official_villages",
        "listed village",
        "The villages of a list AliResearch published, as imported (import-list or the "
        "official_list asset).",
        (
            col("edition", False),
            *cols(
                "province prefecture county township village main_products "
                "province_original prefecture_original county_original "
                "township_original village_original source_file",
                nullable=True,
            ),
            col("row_number", description="Row in the list's file", type="INTEGER"),
        ),
        ("edition", "source_file", "row_number"),
    ),
    Table(
        "official_towns",
        "listed town",
        "The towns of a list AliResearch published, as imported.",
        (
            col("edition", False),
            *cols("province prefecture county township", nullable=True),
            col("taobao_villages", description="Taobao villages as listed", type="INTEGER"),
            *cols(
                "province_original prefecture_original county_original "
                "township_original source_file",
                nullable=True,
            ),
            col("row_number", description="Row in the list's file", type="INTEGER"),
        ),
        ("edition", "source_file", "row_number"),
    ),
    Table(
        "official_reconciliation",
        "edition with a published list x province",
        "The villages a published list gives per province beside the Taobao villages computed.",
        (
            col("edition"),
            col("province_code"),
            col("province", description="Province full name", type="VARCHAR"),
            col("listed_villages", description="Villages in the published list", type="INTEGER"),
            col("computed_villages", description="Taobao villages computed", type="INTEGER"),
            col("difference", description="computed_villages - listed_villages", type="INTEGER"),
        ),
        ("edition", "province_code"),
    ),
    Table(
        "edition_provenance",
        "edition x input file",
        "What each published edition was computed from: its input files, the rules in "
        "force, the code and the run.",
        (
            col("edition", False),
            col("file", False),
            col(
                "sha256",
                True,
                "SHA-256 of the file's bytes; empty when a step ran under other rules or code "
                "than the publish, so the next run recomputes the edition",
                type="VARCHAR",
            ),
            col("bytes", True, "Size of the file in bytes", type="BIGINT"),
            col(
                "rules",
                False,
                "JSON of the thresholds and cut-off month in force for the edition",
                type="VARCHAR",
            ),
            col(
                "code_version",
                False,
                "Version of the pipeline that computed the edition: package version and a "
                "digest of its source and SQL files and of its libraries' versions",
                type="VARCHAR",
            ),
            col("run_id", False, "The Dagster run that published the edition", type="VARCHAR"),
            col(
                "published_at",
                False,
                "When the edition was published (withdrawn: when it was withdrawn)",
                type="TIMESTAMP WITH TIME ZONE",
            ),
            col(
                "note",
                True,
                "What the operator decided, in their words: an edition published over a "
                "failed quality gate (the checks, figures and thresholds, and the reason "
                "given with --publish-anyway), or withdrawn (file '(withdrawn)': the reason "
                "given to withdraw; a withdrawal stays on record when the edition is "
                "published again); empty otherwise",
                type="VARCHAR",
            ),
        ),
        ("edition", "file", "published_at"),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in TABLE_LIST}

#: the accepted input of an edition, staged by the ingest
INPUT_TABLES = ("villages", "shops", "shop_sales")
#: computed per edition in staging, in dependency order
COMPUTED_TABLES = (
    "village_metrics",
    "taobao_villages",
    "taobao_towns",
    "county_summary",
    "taobao_clusters",
    "province_summary",
    "national_summary",
)
#: staged one part per source
PER_SOURCE = ("rejected_rows", "load_audit")
#: the tables an edition's staging publishes, in the order they are published
EDITION_TABLES: dict[str, Table] = {n: TABLES[n] for n in (*COMPUTED_TABLES, *PER_SOURCE)}
#: derived tables every publish rewrites whole (from the warehouse's other tables and code)
RECOMPUTED = ("reconciliation", "official_reconciliation", "provinces")
#: every table of the warehouse file
PUBLISHED_TABLES: dict[str, Table] = {n: t for n, t in TABLES.items() if n not in INPUT_TABLES}


def ensure_tables(
    conn: duckdb.DuckDBPyConnection, tables: dict[str, Table] | Iterable[Table], catalog: str
) -> None:
    """Create the tables ``catalog`` (the warehouse) lacks, and add the columns that a file
    written by an older version lacks. One catalog query when nothing is missing."""
    declared = list(tables.values()) if isinstance(tables, dict) else list(tables)
    present = _present(conn, catalog)
    types = _types(conn, catalog)
    for table in declared:
        if table.name in RECOMPUTED and types.get(table.name) != [
            (c.name, c.type) for c in table.columns
        ]:
            # wholly rewritten by every publish: an older shape is replaced, not patched
            conn.execute(f'DROP TABLE IF EXISTS "{catalog}".main.{table.name}')
            present.pop(table.name, None)
        if table.name not in present:
            conn.execute(table.create_sql(f'"{catalog}".main.{table.name}'))
            continue
        for c in table.columns:
            if c.name not in present[table.name]:
                conn.execute(
                    f'ALTER TABLE "{catalog}".main.{table.name} ADD COLUMN {c.name} {c.type}'
                )


def _types(conn: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    """table -> (column, type) in order, of the tables in ``catalog``'s main schema."""
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, sql_type in conn.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = $c AND schema_name = 'main' ORDER BY table_name, column_index",
        {"c": catalog},
    ).fetchall():
        found.setdefault(table, []).append((column, sql_type))
    return found


def _present(conn: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, dict[str, str | None]]:
    """table -> column -> its comment, of the tables in ``catalog``'s main schema."""
    present: dict[str, dict[str, str | None]] = {}
    for table, column, comment in conn.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE database_name = $c AND schema_name = 'main'",
        {"c": catalog},
    ).fetchall():
        present.setdefault(table, {})[column] = comment
    return present


def describe_tables(conn: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Write each declared table's and column's description as its ``COMMENT``, where the
    file lacks it or says otherwise (a table replaced by ``CREATE OR REPLACE`` loses its
    comments)."""
    present = _present(conn, catalog)
    table_comments = dict(
        conn.execute(
            "SELECT table_name, comment FROM duckdb_tables() "
            "WHERE database_name = $c AND schema_name = 'main'",
            {"c": catalog},
        ).fetchall()
    )
    for name, columns in present.items():
        table = TABLES.get(name)
        if table is None:
            continue
        for column, statement in table.comment_sql(f'"{catalog}".main.{name}'):
            if column is None:
                stale = table_comments.get(name) != table.comment
            else:
                stale = column in columns and columns[column] != table.column(column).description
            if stale:
                conn.execute(statement)


def data_dictionary() -> str:
    """``docs/data-dictionary.md``: every table and column, from the declarations."""
    lines = [
        "# Data dictionary",
        "",
        "Generated from `taobao_pipeline/tables.py` (`python -m taobao_pipeline.tables`); a "
        "test fails when it is stale. The warehouse carries the same descriptions as "
        "`COMMENT ON TABLE` / `COMMENT ON COLUMN` (see `duckdb_columns().comment`).",
        "",
    ]
    for table in TABLE_LIST:
        where = "staging only" if table.name in INPUT_TABLES else "warehouse"
        lines += [
            f"## `{table.name}` ({where})",
            "",
            table.comment,
            "",
            f"Key: {', '.join(table.key)}",
            "",
            "| column | type | null | description |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {c.description} |"
            for c in table.columns
        ]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(data_dictionary(), end="")
