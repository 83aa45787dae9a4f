"""Asset checks: the contract's guarantees, verified on every edition a run builds.

Each check is declared with the step that builds its asset (``check_specs``) and judged
there, on the edition's staged tables, before anything is published: a blocking check
that fails stops the step, and the edition is not published. The designations are judged
against the rule restated independently of the SQL (``restated_rules``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import dagster as dg
import polars as pl

from taobao_pipeline.defs.metadata import markdown_table
from taobao_pipeline.defs.partitions import for_each_edition
from taobao_pipeline.defs.resources import QualityResource
from taobao_pipeline.reconciliation import reconcile
from taobao_pipeline.restated_rules import (
    VILLAGE_COLUMNS,
    active_shops_by_village,
    taobao_town_codes,
    taobao_village_codes,
)
from taobao_pipeline.rules import Rules
from taobao_pipeline.staging import Staging
from taobao_pipeline.tables import TABLES
from taobao_pipeline.warehouse import Warehouse

T = TypeVar("T")
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def per_edition(
    warehouse: Warehouse, editions: list[int], measure: Callable[[Staging, int], T]
) -> dict[int, T]:
    """``measure`` of each edition, on its staged tables."""

    def one(edition: int) -> T:
        with warehouse.staging(edition) as stg:
            return measure(stg, edition)

    return for_each_edition(editions, one)


def _by_edition(figures: dict[int, dict[str, object]]) -> dg.MetadataValue:
    return markdown_table([{"edition": e, **f} for e, f in figures.items()])


def _agreement(
    asset: str, check: str, figures: dict[int, dict[str, object]], mismatches: list[str]
) -> dg.AssetCheckResult:
    """A check of the computation against the restated rules: it passes when no edition
    counts any of ``mismatches``; each edition's figures in its metadata."""
    wrong = sum(int(f[name]) for f in figures.values() for name in mismatches)
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=check,
        passed=wrong == 0,
        severity=ERROR,
        metadata={"mismatches": wrong, "by_edition": _by_edition(figures)},
    )


def _staged(stg: Staging, table: str, columns: list[str]) -> pl.DataFrame:
    """Columns of a staged table, read by polars (not through the SQL that computed it)."""
    files = stg.files(table)
    if not files:
        schema = TABLES[table].polars_schema()
        return pl.DataFrame(schema={c: schema[c] for c in columns})
    return pl.read_parquet(files, columns=columns)


# --- the staged inputs -------------------------------------------------------------------

# the staged table of each source: its rejected share is judged on that asset
SOURCE_ASSETS = {"villages": "villages", "shops": "shops", "revenue": "shop_sales"}

INPUT_CHECKS = [
    *(
        dg.AssetCheckSpec(
            "rejected_share",
            asset=asset,
            # not blocking: rejecting bad rows and loading the rest is the contract's behaviour
            blocking=False,
            description=f"The share of {source} rows rejected by the contract's rules stays "
            "under the configured warn and error thresholds (QualityResource).",
        )
        for source, asset in SOURCE_ASSETS.items()
    ),
    dg.AssetCheckSpec(
        "load_audit_balances",
        asset="load_audit",
        blocking=True,
        description="Every input file: rows read = rows accepted + rows rejected, and the "
        "staged tables hold exactly the accepted rows.",
    ),
]


def _rejected(stg: Staging, source: str) -> dict[str, object]:
    """A source's rows read and rejected in an edition, and the share rejected."""
    read, rejected = stg.conn.execute(
        "SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0) "
        "FROM load_audit WHERE source = $s",
        {"s": source},
    ).fetchall()[0]
    return {"rows_read": read, "rows_rejected": rejected, "share": rejected / max(read, 1)}


def rejected_share(
    warehouse: Warehouse, editions: list[int], source: str, quality: QualityResource
) -> dg.AssetCheckResult:
    figures = per_edition(warehouse, editions, lambda stg, _: _rejected(stg, source))
    share = max(f["share"] for f in figures.values())
    warn, error = Decimal(quality.reject_warn_share), Decimal(quality.reject_error_share)
    return dg.AssetCheckResult(
        asset_key=SOURCE_ASSETS[source],
        check_name="rejected_share",
        passed=share <= warn,
        severity=ERROR if share > error else WARN,
        metadata={
            "rejected_share": float(share),
            "rows_rejected": sum(f["rows_rejected"] for f in figures.values()),
            "by_edition": _by_edition(figures),
        },
    )


STAGED_ROWS = """
SELECT count(*) FROM (
    SELECT source, sum(rows_accepted) AS audited FROM load_audit GROUP BY source
) a JOIN (
    SELECT 'villages' AS source, count(*) AS staged FROM villages
    UNION ALL SELECT 'shops', count(*) FROM shops
    UNION ALL SELECT 'revenue', coalesce(sum(sales_rows), 0) FROM shop_sales
) s USING (source)
WHERE audited <> staged
"""


def _balance(stg: Staging, _: int = 0) -> dict[str, int]:
    """Files whose rows read differ from accepted + rejected, and sources whose staged
    rows differ from those the audit accepted."""
    unbalanced = stg.conn.execute(
        "SELECT count(*) FROM load_audit WHERE rows_read <> rows_accepted + rows_rejected"
    ).fetchall()[0][0]
    mismatched = stg.conn.execute(STAGED_ROWS).fetchall()[0][0]
    return {"unbalanced_files": unbalanced, "sources_not_matching_staged": mismatched}


def load_audit_balances(warehouse: Warehouse, editions: list[int]) -> dg.AssetCheckResult:
    figures = per_edition(warehouse, editions, _balance)
    bad = sum(f["unbalanced_files"] + f["sources_not_matching_staged"] for f in figures.values())
    return dg.AssetCheckResult(
        asset_key="load_audit",
        check_name="load_audit_balances",
        passed=bad == 0,
        severity=ERROR,
        metadata={"problems": bad, "by_edition": _by_edition(figures)},
    )


def quality_gate(
    warehouse: Warehouse, editions: list[int], quality: QualityResource
) -> dict[int, list[str]]:
    """The input checks that fail with ERROR severity, per edition that has any: the rows
    rejected above the error share, or an audit that does not balance. Such an edition is
    not published unless the operator says why it should be (``publish_anyway``)."""
    error = Decimal(quality.reject_error_share)

    def measure(stg: Staging, _: int) -> list[str]:
        failed = []
        for source, asset in SOURCE_ASSETS.items():
            f = _rejected(stg, source)
            if f["share"] > error:
                failed.append(
                    f"{asset}:rejected_share: {f['share']:.2%} of {source} rows rejected "
                    f"({f['rows_rejected']:,} of {f['rows_read']:,}), error threshold {error:.0%}"
                )
        balance = _balance(stg)
        if any(balance.values()):
            failed.append(
                f"load_audit:load_audit_balances: {balance['unbalanced_files']} files where "
                "rows read differ from accepted + rejected, "
                f"{balance['sources_not_matching_staged']} sources whose staged rows differ"
            )
        return failed

    return {e: failed for e, failed in per_edition(warehouse, editions, measure).items() if failed}


class QualityGateFailed(Exception):
    """An edition failed a quality check of ERROR severity: it was not published."""

    def __init__(self, failed: dict[int, list[str]]) -> None:
        editions = ",".join(str(e) for e in failed)
        checks = "; ".join(f"edition {e}: {'; '.join(f)}" for e, f in failed.items())
        # the rest of what to do is errors.ADVICE (a message is cut to an excerpt there)
        super().__init__(
            f"edition {editions} not published, the quality gate failed (to publish anyway: "
            f'taobao-pipeline run --editions {editions} --publish-anyway "REASON"): {checks}'
        )


def override_notes(failed: dict[int, list[str]], reason: str) -> dict[int, str]:
    """What ``edition_provenance`` records of editions published over a failed gate."""
    return {
        e: f"published over a failed quality gate ({'; '.join(f)}); reason: {reason}"
        for e, f in failed.items()
    }


# --- the designations ---------------------------------------------------------------------

DESIGNATION_CHECKS = [
    dg.AssetCheckSpec(
        "active_shops_follow_rule",
        asset="village_metrics",
        blocking=True,
        description="Each village's active shops are those the contract's activity rule "
        "gives (open 30 days, not closed, >= 1 order a month over the last 3 months it was "
        "open), recounted from the staged shops independently of the SQL.",
    ),
    dg.AssetCheckSpec(
        "designations_follow_criteria",
        asset="taobao_villages",
        blocking=True,
        description="The designated villages are exactly those that meet the three criteria, "
        "judged by the rule restated independently of the SQL.",
    ),
    dg.AssetCheckSpec(
        "towns_follow_rule",
        asset="taobao_towns",
        blocking=True,
        description="The Taobao towns are exactly the townships the town rule designates "
        "(>= 3 Taobao villages, or from 2019 the sales rule; no sub-district from 2020), "
        "restated independently of the SQL.",
    ),
    dg.AssetCheckSpec(
        "national_equals_provinces",
        asset="national_summary",
        blocking=True,
        description="The national Taobao villages, towns, revenue and active shops equal the "
        "sums of the provinces.",
    ),
    dg.AssetCheckSpec(
        "matches_published_record",
        asset="national_summary",
        blocking=False,
        description="The edition's figures against the published record (counts exact, money "
        "and shops within 1%); warns with the differences.",
    ),
]


def active_shops_follow_rule(
    warehouse: Warehouse, editions: list[int], rules: Rules
) -> dg.AssetCheckResult:
    def measure(stg: Staging, edition: int) -> dict[str, object]:
        shops = _staged(stg, "shops", ["shop_id", "village_code", "opened_on", "closed_on"])
        sales = _staged(stg, "shop_sales", ["shop_id", "recent_orders"])
        by_rule = active_shops_by_village(shops, sales, edition, rules)
        metrics = _staged(stg, "village_metrics", ["village_code", "active_shops"])
        # a full join: a village counted by the rule but missing from the metrics is wrong too
        compared = metrics.join(by_rule, on="village_code", how="full", coalesce=True)
        wrong = compared.filter(
            pl.col("active_shops").fill_null(-1) != pl.col("active_by_rule").fill_null(0)
        ).height
        return {"villages_off_rule": wrong, "villages": metrics.height}

    figures = per_edition(warehouse, editions, measure)
    return _agreement("village_metrics", "active_shops_follow_rule", figures, ["villages_off_rule"])


def designations_follow_criteria(
    warehouse: Warehouse, editions: list[int], rules: Rules
) -> dg.AssetCheckResult:
    def measure(stg: Staging, edition: int) -> dict[str, object]:
        metrics = _staged(stg, "village_metrics", [*VILLAGE_COLUMNS, "is_taobao_village"])
        by_rule = taobao_village_codes(metrics, edition, rules)
        flagged = set(metrics.filter(pl.col("is_taobao_village"))["village_code"].to_list())
        listed = set(_staged(stg, "taobao_villages", ["village_code"])["village_code"].to_list())
        return {
            "designated_without_criteria": len(listed - by_rule),
            "criteria_without_designation": len(by_rule - listed),
            "flag_disagrees_with_rule": len(flagged ^ by_rule),
            "taobao_villages": len(listed),
        }

    figures = per_edition(warehouse, editions, measure)
    mismatches = [
        "designated_without_criteria",
        "criteria_without_designation",
        "flag_disagrees_with_rule",
    ]
    return _agreement("taobao_villages", "designations_follow_criteria", figures, mismatches)


def towns_follow_rule(
    warehouse: Warehouse, editions: list[int], rules: Rules
) -> dg.AssetCheckResult:
    columns = ["village_code", "revenue_rmb", "active_shops", "is_taobao_village"]

    def measure(stg: Staging, edition: int) -> dict[str, object]:
        by_rule = taobao_town_codes(_staged(stg, "village_metrics", columns), edition, rules)
        listed = set(_staged(stg, "taobao_towns", ["township_code"])["township_code"].to_list())
        return {
            "towns_not_by_rule": len(listed - by_rule),
            "rule_not_in_towns": len(by_rule - listed),
            "taobao_towns": len(listed),
        }

    figures = per_edition(warehouse, editions, measure)
    mismatches = ["towns_not_by_rule", "rule_not_in_towns"]
    return _agreement("taobao_towns", "towns_follow_rule", figures, mismatches)


NATIONAL_MINUS_PROVINCES = """
SELECT n.taobao_villages - p.v, n.taobao_towns - p.t, n.revenue_rmb - p.r, n.active_shops - p.a
FROM national_summary n, (
    SELECT coalesce(sum(taobao_villages), 0) AS v, coalesce(sum(taobao_towns), 0) AS t,
           coalesce(sum(revenue_rmb), 0) AS r, coalesce(sum(active_shops), 0) AS a
    FROM province_summary) p
"""


def national_equals_provinces(warehouse: Warehouse, editions: list[int]) -> dg.AssetCheckResult:
    def measure(stg: Staging, _: int) -> dict[str, object]:
        rows = stg.conn.execute(NATIONAL_MINUS_PROVINCES).fetchall()
        diffs = rows[0] if rows else (None,) * 4
        return dict(zip(("villages", "towns", "revenue_rmb", "active_shops"), diffs, strict=True))

    figures = per_edition(warehouse, editions, measure)
    passed = all(all(v == 0 for v in f.values()) for f in figures.values())
    return dg.AssetCheckResult(
        asset_key="national_summary",
        check_name="national_equals_provinces",
        passed=passed,
        severity=ERROR,
        metadata={"differences": _by_edition(figures)},
    )


def staged_reconciliation(warehouse: Warehouse, editions: list[int]) -> pl.DataFrame:
    """The editions' figures against the published record, from their staged tables (for
    a run that publishes nothing; a publish reconciles them itself)."""
    frames = per_edition(warehouse, editions, lambda stg, _: reconcile(stg.conn, stg.schema))
    return pl.concat(frames.values())


def matches_published_record(figures: pl.DataFrame) -> dg.AssetCheckResult:
    """The check of ``figures`` (rows of ``reconciliation``) against their tolerances."""
    off = figures.filter(~pl.col("within_tolerance"))
    shown = off.select(
        "edition",
        "measure",
        pl.col("published").cast(pl.String),
        pl.col("computed").cast(pl.String),
        "relative_difference",
    )
    return dg.AssetCheckResult(
        asset_key="national_summary",
        check_name="matches_published_record",
        passed=off.height == 0,
        severity=WARN,
        metadata={
            "published_figures": figures.height,
            "off_record": off.height,
            "differences": markdown_table(shown.to_dicts()),
        },
    )
