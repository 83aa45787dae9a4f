"""Asset checks: the contract's guarantees, verified on every edition a run builds.

Checks that guard correctness are blocking: when one fails with ERROR severity the
edition is not published. They read the edition's staged tables, so they run
before anything reaches the warehouse analysts query.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import dagster as dg
import duckdb
import polars as pl

from taobao_pipeline.assets.common import markdown_table
from taobao_pipeline.assets.compute import national_summary, taobao_towns, taobao_villages
from taobao_pipeline.assets.ingest import revenue, shops, villages
from taobao_pipeline.assets.validate import load_audit
from taobao_pipeline.partitions import edition_keys, editions, for_each_edition
from taobao_pipeline.reconciliation import reconcile
from taobao_pipeline.resources import RulesResource, WarehouseResource
from taobao_pipeline.restated_rules import VILLAGE_COLUMNS, taobao_town_codes, taobao_village_codes
from taobao_pipeline.staging import Staging
from taobao_pipeline.tables import TABLES

T = TypeVar("T")


class QualityResource(dg.ConfigurableResource):
    """Tolerated share of rejected rows per source: above ``warn`` the check fails with
    WARN severity, above ``error`` with ERROR severity (the edition is still published:
    the contract loads the good rows)."""

    reject_warn_share: str = "0.01"
    reject_error_share: str = "0.05"


def _per_edition(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    measure: Callable[[duckdb.DuckDBPyConnection, int], T],
) -> dict[int, T]:
    """``measure`` of each edition of the run, on its staged tables."""

    def one(edition: int) -> T:
        with warehouse.warehouse.staging(edition) as stg:
            return measure(stg.conn, edition)

    return for_each_edition(edition_keys(context), one)


def _per_edition_staging(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    measure: Callable[[Staging, int], T],
) -> dict[int, T]:
    """``measure`` of each edition of the run, given its staging."""

    def one(edition: int) -> T:
        with warehouse.warehouse.staging(edition) as stg:
            return measure(stg, edition)

    return for_each_edition(edition_keys(context), one)


def _schema(conn: duckdb.DuckDBPyConnection) -> str:
    """The schema of the staged tables ``conn`` reads."""
    return conn.execute("SELECT current_schema()").fetchall()[0][0]


def _rejected_share_check(asset: dg.AssetsDefinition, source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name="rejected_share",
        # not blocking: rejecting bad rows and loading the rest is the contract's behaviour
        blocking=False,
        partitions_def=editions,
        description=f"The share of {source} rows rejected by the contract's rules stays under "
        "the configured warn and error thresholds (QualityResource).",
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        quality: QualityResource,
    ) -> dg.AssetCheckResult:
        def measure(conn: duckdb.DuckDBPyConnection, _: int) -> dict[str, object]:
            read, rejected = conn.execute(
                "SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0) "
                "FROM load_audit WHERE source = $s",
                {"s": source},
            ).fetchall()[0]
            return {"rows_read": read, "rows_rejected": rejected, "share": rejected / max(read, 1)}

        figures = _per_edition(context, warehouse, measure)
        share = max(f["share"] for f in figures.values())
        warn, error = Decimal(quality.reject_warn_share), Decimal(quality.reject_error_share)
        severity = dg.AssetCheckSeverity.ERROR if share > error else dg.AssetCheckSeverity.WARN
        return dg.AssetCheckResult(
            passed=share <= warn,
            severity=severity,
            metadata={
                "rejected_share": float(share),
                "rows_rejected": sum(f["rows_rejected"] for f in figures.values()),
                "by_edition": markdown_table([{"edition": e, **f} for e, f in figures.items()]),
            },
        )

    return _check


villages_rejected_share = _rejected_share_check(villages, "villages")
shops_rejected_share = _rejected_share_check(shops, "shops")
revenue_rejected_share = _rejected_share_check(revenue, "revenue")


@dg.asset_check(asset=load_audit, blocking=True, partitions_def=editions)
def load_audit_balances(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Every input file: rows read = rows accepted + rows rejected, and the staged tables
    hold exactly the accepted rows."""

    def measure(conn: duckdb.DuckDBPyConnection, _: int) -> dict[str, object]:
        unbalanced = conn.execute(
            "SELECT count(*) FROM load_audit WHERE rows_read <> rows_accepted + rows_rejected"
        ).fetchall()[0][0]
        mismatched = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT source, sum(rows_accepted) AS audited FROM load_audit GROUP BY source
            ) a JOIN (
                SELECT 'villages' AS source, count(*) AS staged FROM villages
                UNION ALL SELECT 'shops', count(*) FROM shops
                UNION ALL SELECT 'revenue', coalesce(sum(sales_rows), 0) FROM shop_sales
            ) s USING (source)
            WHERE audited <> staged
            """
        ).fetchall()[0][0]
        return {"unbalanced_files": unbalanced, "sources_not_matching_staged": mismatched}

    figures = _per_edition(context, warehouse, measure)
    bad = sum(f["unbalanced_files"] + f["sources_not_matching_staged"] for f in figures.values())
    return dg.AssetCheckResult(
        passed=bad == 0,
        metadata={
            "problems": bad,
            "by_edition": markdown_table([{"edition": e, **f} for e, f in figures.items()]),
        },
    )


def _staged(stg: Staging, table: str, columns: list[str]) -> pl.DataFrame:
    """Columns of a staged table, read by polars (not through the SQL that computed it)."""
    files = stg.files(table)
    if not files:
        schema = TABLES[table].polars_schema()
        return pl.DataFrame(schema={c: schema[c] for c in columns})
    return pl.read_parquet(files, columns=columns)


@dg.asset_check(asset=taobao_villages, blocking=True, partitions_def=editions)
def designations_follow_criteria(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.AssetCheckResult:
    """The designated villages are exactly those that meet the three criteria, judged by the
    contract's rule restated independently of the SQL (``restated_rules``) from each
    village's code, class, households, active shops and revenue."""
    in_force = rules.rules()

    def measure(stg: Staging, edition: int) -> dict[str, object]:
        metrics = _staged(stg, "village_metrics", [*VILLAGE_COLUMNS, "is_taobao_village"])
        by_rule = taobao_village_codes(metrics, edition, in_force)
        flagged = set(metrics.filter(pl.col("is_taobao_village"))["village_code"].to_list())
        listed = set(_staged(stg, "taobao_villages", ["village_code"])["village_code"].to_list())
        return {
            "designated_without_criteria": len(listed - by_rule),
            "criteria_without_designation": len(by_rule - listed),
            "flag_disagrees_with_rule": len(flagged ^ by_rule),
            "taobao_villages": len(listed),
        }

    figures = _per_edition_staging(context, warehouse, measure)
    wrong = sum(
        f["designated_without_criteria"]
        + f["criteria_without_designation"]
        + f["flag_disagrees_with_rule"]
        for f in figures.values()
    )
    return dg.AssetCheckResult(
        passed=wrong == 0,
        metadata={
            "mismatches": wrong,
            "by_edition": markdown_table([{"edition": e, **f} for e, f in figures.items()]),
        },
    )


@dg.asset_check(asset=taobao_towns, blocking=True, partitions_def=editions)
def towns_follow_rule(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, rules: RulesResource
) -> dg.AssetCheckResult:
    """The Taobao towns are exactly the townships the contract's town rule designates
    (>= 3 Taobao villages, or from 2019 the sales rule; no sub-district from 2020),
    restated independently of the SQL (``restated_rules``)."""
    in_force = rules.rules()

    def measure(stg: Staging, edition: int) -> dict[str, object]:
        metrics = _staged(
            stg,
            "village_metrics",
            ["village_code", "revenue_rmb", "active_shops", "is_taobao_village"],
        )
        by_rule = taobao_town_codes(metrics, edition, in_force)
        listed = set(_staged(stg, "taobao_towns", ["township_code"])["township_code"].to_list())
        return {
            "towns_not_by_rule": len(listed - by_rule),
            "rule_not_in_towns": len(by_rule - listed),
            "taobao_towns": len(listed),
        }

    figures = _per_edition_staging(context, warehouse, measure)
    wrong = sum(f["towns_not_by_rule"] + f["rule_not_in_towns"] for f in figures.values())
    return dg.AssetCheckResult(
        passed=wrong == 0,
        metadata={
            "mismatches": wrong,
            "by_edition": markdown_table([{"edition": e, **f} for e, f in figures.items()]),
        },
    )


@dg.asset_check(asset=national_summary, blocking=True, partitions_def=editions)
def national_equals_provinces(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """The national Taobao villages, towns, revenue and active shops equal the sums of the
    provinces."""

    def measure(conn: duckdb.DuckDBPyConnection, _: int) -> dict[str, object]:
        rows = conn.execute(
            """
            SELECT n.taobao_villages - p.v, n.taobao_towns - p.t,
                   n.revenue_rmb - p.r, n.active_shops - p.a
            FROM national_summary n, (
                SELECT coalesce(sum(taobao_villages), 0) AS v, coalesce(sum(taobao_towns), 0) AS t,
                       coalesce(sum(revenue_rmb), 0) AS r, coalesce(sum(active_shops), 0) AS a
                FROM province_summary) p
            """
        ).fetchall()
        diffs = rows[0] if rows else (None,) * 4
        return dict(zip(("villages", "towns", "revenue_rmb", "active_shops"), diffs, strict=True))

    figures = _per_edition(context, warehouse, measure)
    passed = all(all(v == 0 for v in f.values()) for f in figures.values())
    return dg.AssetCheckResult(
        passed=passed,
        metadata={"differences": markdown_table([{"edition": e, **f} for e, f in figures.items()])},
    )


@dg.asset_check(asset=national_summary, partitions_def=editions)
def matches_published_record(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """The edition's figures against the published record (counts exact, money and shops
    within 1%); warns with the differences. Only published figures are judged."""
    frames = _per_edition(context, warehouse, lambda conn, _: reconcile(conn, _schema(conn)))
    figures = pl.concat(frames.values())
    off = figures.filter(~pl.col("within_tolerance"))
    shown = off.select(
        "edition",
        "measure",
        pl.col("published").cast(pl.String),
        pl.col("computed").cast(pl.String),
        "relative_difference",
    )
    return dg.AssetCheckResult(
        passed=off.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "published_figures": figures.height,
            "off_record": off.height,
            "differences": markdown_table(shown.to_dicts()),
        },
    )
