"""The designations of an edition and their publication: the contract's metrics, Taobao
villages and towns, the summaries, and their reconciliations, in one step.

The step computes each table in the edition's staging (the SQL of ``sql/``), judges them
with the asset checks, and only if no blocking check fails publishes the run's editions:
every table replaces the editions' rows in one transaction (with the staged inputs'
``rejected_rows`` and ``load_audit``), so the warehouse never holds half an edition. Each
asset's materialization therefore means: the table, as published.
"""

from collections.abc import Iterator

import dagster as dg

from taobao_pipeline import reconciliation
from taobao_pipeline.computations import STATEMENTS, compute
from taobao_pipeline.defs.checks import (
    DESIGNATION_CHECKS,
    INPUT_CHECKS,
    BlockingChecksFailed,
    QualityGateFailed,
    Verdict,
    evaluations,
    gate,
    judge_all,
    matches_published_record,
    only_checks,
    override_notes,
    results,
    verdicts_of_record,
)
from taobao_pipeline.defs.metadata import (
    SINGLE_RUN,
    cluster_figures,
    clusters,
    national_figures,
    per_edition,
    provinces,
    rows,
    table_spec,
    top_villages,
    warehouse_uri,
)
from taobao_pipeline.defs.partitions import edition_keys, editions, for_each_edition
from taobao_pipeline.defs.resources import PathsResource, QualityResource, RulesResource
from taobao_pipeline.fingerprints import code_digest, plan
from taobao_pipeline.rules import DEFAULT as R
from taobao_pipeline.tables import COMPUTED_TABLES

GROUP = "designations"
KINDS = {"duckdb", "sql"}

DESCRIPTIONS = {
    "village_metrics": "One row per register village: shops, active shops "
    f"({R.active_words}), revenue (exact), density, and the three criteria of a Taobao "
    "village.",
    "taobao_villages": "The designated villages of the edition: rural village committees with "
    f"{R.revenue_words} and {R.shops_words}.",
    "taobao_towns": f"Townships with {R.town_words}.",
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

# in topological order: a multi-asset yields its tables in that order
# a tuple, not a list: load_from_defs_folder (definitions.py) would load a module-level
# list of specs as assets of their own
DESIGNATION_SPECS = (
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
)

# each edition's story on the tables that tell it (beside its rows on every table)
STORIES = {
    "taobao_villages": (national_figures, top_villages),
    "taobao_towns": (national_figures,),
    "taobao_clusters": (cluster_figures, clusters),
    "province_summary": (provinces,),
    "national_summary": (national_figures, cluster_figures),
}
# judged on the staging before the publish; the record after it, on what it reconciled
BEFORE_PUBLISH = [c for c in DESIGNATION_CHECKS if c.judge is not matches_published_record]
RECORD = next(c for c in DESIGNATION_CHECKS if c.judge is matches_published_record)


@dg.multi_asset(
    name="designate_and_publish",
    specs=DESIGNATION_SPECS,
    check_specs=[c.spec() for c in DESIGNATION_CHECKS],
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    can_subset=True,  # its checks alone, from the UI: judged on the staged editions
)
def designate_and_publish(
    context: dg.AssetExecutionContext,
    paths: PathsResource,
    rules: RulesResource,
    quality: QualityResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation | dg.Output]:
    """Compute the designations of the run's editions, check them, publish them at once.

    Nothing is published when a blocking check fails, or when an edition's inputs fail the
    quality gate (an input check failed with ERROR severity: rows rejected above the error
    share, an audit that does not balance), judged here, before the publish, whichever run
    staged them; ``publish_anyway`` (the operator's reason) publishes over the gate and is
    recorded in ``edition_provenance``. Each edition's materializations and check results
    carry its own figures, whatever the run's range."""
    keys, wh = edition_keys(context), paths.warehouse
    thresholds = quality.thresholds(rules.rules())
    checks_alone = only_checks(context, wh, DESIGNATION_SPECS, DESIGNATION_CHECKS, thresholds)
    if checks_alone is not None:
        yield from checks_alone
        return
    stories: dict[str, dict[int, dict[str, object]]] = {}
    for table in COMPUTED_TABLES:

        def one(edition: int, table: str = table) -> dict[str, object]:
            with wh.staging(edition) as stg:
                return rows(compute(stg, table, edition, thresholds.rules))

        stories[table] = for_each_edition(keys, one)

    def tell(edition: int) -> dict[str, dict[str, object]]:
        """The edition's story, once every table of it is computed."""
        with wh.staging(edition) as stg:
            return {
                table: {k: v for story in told for k, v in story(stg.conn).items()}
                for table, told in STORIES.items()
            }

    for edition, told in for_each_edition(keys, tell).items():
        for table, metadata in told.items():
            stories[table][edition] |= metadata

    verdicts = judge_all(wh, keys, BEFORE_PUBLISH, thresholds)
    failed = sorted(
        {c.key for by in verdicts.values() for c in BEFORE_PUBLISH if by[c.key].failed_with_error}
    )
    stopped = gate(judge_all(wh, keys, INPUT_CHECKS, thresholds))
    reason = quality.publish_anyway.strip()
    if failed or (stopped and not reason):
        # nothing is published: the record is judged on the staged tables
        for edition, by in judge_all(wh, keys, [RECORD], thresholds).items():
            verdicts[edition] |= by
        yield from evaluations(context, DESIGNATION_CHECKS, verdicts)
        if failed:
            raise BlockingChecksFailed(keys, failed)
        raise QualityGateFailed(stopped)

    # with what each edition was computed from, in the same transaction: `run` skips it
    # while its files, rules and code stay the same; counted by the publish itself:
    # nothing but the publish opens the warehouse file
    notes = override_notes(stopped, reason)
    provenance = wh.staged_provenance(keys, thresholds.rules, context.run.run_id, notes)
    published = wh.publish(keys, provenance)
    for table in ("reconciliation", "official_reconciliation", "edition_provenance"):
        per = published.per_edition[table]
        stories[table] = {e: rows(per.get(e, 0)) for e in keys}
    stories["provinces"] = {e: rows(published.rows["provinces"]) for e in keys}
    for spec in DESIGNATION_SPECS:
        table = spec.key.to_user_string()
        per_edition(context, table, stories[table])
        common: dict[str, object] = {
            "dagster/row_count": published.rows[table],  # the whole table, every edition
            "dagster/uri": warehouse_uri(wh.path, table),
        }
        if table == "national_summary":
            common["code_version"] = code_digest()
        yield dg.MaterializeResult(asset_key=spec.key, metadata=common)
    # the record judged on what the publish reconciled: computed once per run
    for edition, verdict in verdicts_of_record(published.reconciliation, keys).items():
        verdicts[edition][RECORD.key] = verdict
    yield from evaluations(context, DESIGNATION_CHECKS, verdicts)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "inputs_unchanged",
            asset="edition_provenance",
            partitions_def=editions,
            blocking=False,
            description="Up to date: the edition's input files (by SHA-256), rules and code "
            "are still those it was published from. A warning names what changed since; "
            "`taobao-pipeline run` recomputes such an edition and skips the others. Executed "
            "after every publish (a file replaced during the run shows here) and on its own "
            "from the UI, for the editions chosen, to see which are stale.",
        )
    ]
)
def inputs_unchanged(
    context: dg.AssetCheckExecutionContext, paths: PathsResource, rules: RulesResource
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """Whether each edition's files, rules and code are those it was published from."""
    keys = edition_keys(context.op_execution_context)
    # the plan of `taobao-pipeline run`: the files hashed by the run's ingest are not read again
    todo = plan(paths.raw, paths.warehouse.path, keys, rules.rules())

    def verdict(why: str | None) -> Verdict:
        return Verdict(
            passed=why is None,
            summary="Up to date: its input files, rules and code are those it was published from"
            if why is None
            else f"Stale: {why}",
            severity=dg.AssetCheckSeverity.WARN,
        )

    verdicts = {edition: verdict(todo.run.get(edition)) for edition in keys}
    yield from results(
        context.op_execution_context, "edition_provenance", "inputs_unchanged", verdicts
    )
