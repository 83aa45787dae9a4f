"""The designations of an edition and their publication: the contract's metrics, Taobao
villages and towns, the summaries, and their reconciliations, in one step.

The step computes each table in the edition's staging (the SQL of ``sql/``), judges them
with the asset checks, and only if no blocking check fails publishes the run's editions:
every table replaces the editions' rows in one transaction (with the staged inputs'
``rejected_rows`` and ``load_audit``), so the warehouse never holds half an edition. Each
asset's materialization therefore means: the table, as published.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import duckdb

from taobao_pipeline import reconciliation
from taobao_pipeline.computations import STATEMENTS, compute
from taobao_pipeline.defs.checks import (
    DESIGNATION_CHECKS,
    QualityGateFailed,
    active_shops_follow_rule,
    designations_follow_criteria,
    matches_published_record,
    national_equals_provinces,
    override_notes,
    quality_gate,
    staged_reconciliation,
    towns_follow_rule,
)
from taobao_pipeline.defs.metadata import SINGLE_RUN, edition_metadata, markdown_table, table_spec
from taobao_pipeline.defs.partitions import edition_keys, editions, for_each_edition
from taobao_pipeline.defs.resources import PathsResource, QualityResource, RulesResource
from taobao_pipeline.editions import describe_editions
from taobao_pipeline.fingerprints import code_digest, plan, staged_provenance
from taobao_pipeline.sql import load
from taobao_pipeline.tables import COMPUTED_TABLES

GROUP = "designations"
KINDS = {"duckdb", "sql"}

DESCRIPTIONS = {
    "village_metrics": "One row per register village: shops, active shops (open 30 days, not "
    "closed, at least 1 order a month over the last 3 months it was open), revenue (exact), "
    "density, and the three criteria of a Taobao village.",
    "taobao_villages": "The designated villages of the edition: rural village committees with "
    "revenue of at least RMB 10 million and 100 active shops or 10% of households.",
    "taobao_towns": "Townships with at least 3 Taobao villages or, from 2019, revenue above "
    "RMB 30 million and more than 300 active shops (sums over all their villages); from 2020 "
    "sub-districts are excluded.",
    "county_summary": "Per county-level unit with a Taobao village or town: Taobao villages "
    "and towns, revenue and active shops of its Taobao villages, and its cluster tier "
    "(AliResearch's >= 10 / 30 / 100, one county-level unit standing in for 'adjoining').",
    "taobao_clusters": "AliResearch's Taobao village clusters: county-level units with at least "
    "10 Taobao villages (large from 30, super-large from 100); the unit stands in for "
    "'adjoining', since the contract carries no coordinates.",
    "province_summary": "Per province with any shop: Taobao villages and towns, their revenue "
    "and active shops, and the totals of all its villages.",
    "national_summary": "The edition's national figures: Taobao villages and towns, revenue "
    "and active shops of Taobao villages, provinces with a Taobao village.",
}

# The yearly tables are due each year between the close of the window (the end of June by
# default; the schedule runs on 15 July) and 1 September: a year without a publish in that
# time shows the tables as overdue in the UI (Assets, freshness) until an edition lands.
YEARLY = dg.FreshnessPolicy.cron(
    deadline_cron="0 0 1 9 *", lower_bound_delta=dt.timedelta(days=62), timezone="Asia/Shanghai"
)

# in topological order: a multi-asset yields its tables in that order
DESIGNATION_SPECS = [
    table_spec(
        "provinces",
        "The 31 mainland provinces: code, name, short name, region (provinces.py), written "
        "with every publish; the summaries and reconciliations join it.",
        group_name=GROUP,
        kinds={"duckdb"},
    ),
    *(
        # upstream: exactly the staged tables its SQL reads (computations.STATEMENTS)
        table_spec(
            t,
            DESCRIPTIONS[t],
            STATEMENTS[t].inputs,
            group_name=GROUP,
            kinds=KINDS,
            freshness_policy=YEARLY,
        )
        for t in COMPUTED_TABLES
    ),
    table_spec(
        "reconciliation",
        "The edition's computed figures beside the published record: published figures only, "
        "counts exact, money and shops within 1%.",
        [*reconciliation.INPUTS, "published_record"],
        group_name=GROUP,
        kinds={"duckdb"},
    ),
    table_spec(
        "official_reconciliation",
        "Per edition with a published list and per province: the villages listed beside the "
        "Taobao villages computed.",
        ["official_villages", "taobao_villages", "provinces"],
        group_name=GROUP,
        kinds={"duckdb"},
    ),
    table_spec(
        "edition_provenance",
        "What each published edition was computed from: its input files (SHA-256, bytes, "
        "taken as the staged inputs read them), the rules in force, the code and the run; "
        "written in the publish's transaction. `run` skips an edition that matches it.",
        ["villages", "shops", "shop_sales"],
        group_name=GROUP,
        kinds={"duckdb"},
    ),
]

NATIONAL_FIGURES = """
SELECT taobao_villages, taobao_towns, revenue_rmb::DOUBLE AS revenue_rmb, active_shops, provinces
FROM national_summary
"""


def _top_villages(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    return {"top_villages": markdown_table(conn.sql(load("top_villages")).pl().to_dicts())}


def _national_figures(conn: duckdb.DuckDBPyConnection) -> dict[str, object]:
    # plain numbers: the UI plots numeric metadata across partitions
    rows = conn.sql(NATIONAL_FIGURES).pl().to_dicts()
    return rows[0] if rows else {}


PREVIEWS = {"taobao_villages": _top_villages, "national_summary": _national_figures}


@dg.multi_asset(
    name="designate_and_publish",
    specs=DESIGNATION_SPECS,
    check_specs=DESIGNATION_CHECKS,
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
)
def designate_and_publish(
    context: dg.AssetExecutionContext,
    paths: PathsResource,
    rules: RulesResource,
    quality: QualityResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Compute the designations of the run's editions, check them, publish them at once.

    Nothing is published when a blocking check fails, or when an edition's inputs fail the
    quality gate (rows rejected above the error share, an audit that does not balance),
    judged here, before the publish, whichever run staged them; ``publish_anyway`` (the
    operator's reason) publishes over the gate and is recorded in ``edition_provenance``."""
    keys, wh, in_force = edition_keys(context), paths.warehouse, rules.rules()
    figures: dict[str, dict[int, dict[str, object]]] = {}
    for table in COMPUTED_TABLES:

        def one(edition: int, table: str = table) -> dict[str, object]:
            with wh.staging(edition) as stg:
                rows = compute(stg, table, edition, in_force)
                preview = PREVIEWS.get(table)
                return {"rows": rows} | (preview(stg.conn) if preview else {})

        figures[table] = for_each_edition(keys, one)

    checks = [
        active_shops_follow_rule(wh, keys, in_force),
        designations_follow_criteria(wh, keys, in_force),
        towns_follow_rule(wh, keys, in_force),
        national_equals_provinces(wh, keys),
    ]
    blocking = {spec.name for spec in DESIGNATION_CHECKS if spec.blocking}
    failed = [c for c in checks if not c.passed and c.check_name in blocking]
    gate = quality_gate(wh, keys, quality)
    if failed or (gate and not quality.publish_anyway.strip()):
        # nothing is published: the record is judged on the staged tables
        yield from [*checks, matches_published_record(staged_reconciliation(wh, keys))]
        if failed:
            names = ", ".join(f"{c.asset_key.to_user_string()}:{c.check_name}" for c in failed)
            raise dg.Failure(f"editions {keys} not published: blocking checks failed: {names}")
        raise QualityGateFailed(gate)
    notes = override_notes(gate, quality.publish_anyway.strip())

    # with what each edition was computed from, in the same transaction: `run` skips it
    # while its files, rules and code stay the same; counted by the publish itself:
    # nothing but the publish opens the warehouse file
    published = wh.publish(keys, staged_provenance(wh, keys, in_force, context.run.run_id, notes))
    counts = published.rows
    for table in ("reconciliation", "official_reconciliation", "edition_provenance"):
        per = published.per_edition[table]
        figures[table] = {e: {"rows": per.get(e, 0)} for e in keys}
    figures["provinces"] = {e: {"rows": counts["provinces"]} for e in keys}
    for spec in DESIGNATION_SPECS:
        table = spec.key.to_user_string()
        metadata = edition_metadata(figures[table], "rows")
        metadata["dagster/row_count"] = counts[table]  # the whole table, every edition
        if table == "national_summary":
            metadata["warehouse"] = dg.MetadataValue.path(str(wh.path))
            metadata["code_version"] = code_digest()
        yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)
    # the record judged on what the publish reconciled: computed once per run
    yield from [*checks, matches_published_record(published.reconciliation)]


@dg.asset_check(
    asset="edition_provenance",
    partitions_def=editions,
    description="Up to date: the edition's input files (by SHA-256), rules and code are "
    "still those it was published from. A warning names what changed since; `taobao-pipeline "
    "run` recomputes such an edition and skips the others. Executed after every publish (a "
    "file replaced during the run shows here) and on its own from the UI, for any editions, "
    "to see which are stale.",
)
def inputs_unchanged(
    context: dg.AssetCheckExecutionContext, paths: PathsResource, rules: RulesResource
) -> dg.AssetCheckResult:
    keys = edition_keys(context)
    # the plan of `taobao-pipeline run`: the files hashed by the run's ingest are not read again
    todo = plan(paths.raw, paths.warehouse.path, keys, rules.rules())
    stale = [{"edition": e, "what changed": why} for e, why in sorted(todo.run.items())]
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "up_to_date": describe_editions(todo.skipped) or "none",
            "stale": markdown_table(stale) if stale else "none",
        },
    )
