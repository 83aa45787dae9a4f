"""The staged inputs of an edition: each raw extract read, validated against its Pandera
schema and staged, with the rows refused and the audit of every file.

One step produces the five tables: the sources build on each other (shops must point at
accepted villages, sales at accepted shops), and every source adds its part of
``rejected_rows`` and ``load_audit``. They are published with the edition's designations.
"""

from collections.abc import Callable, Iterator

import dagster as dg

from taobao_pipeline.defs.checks import (
    INPUT_CHECKS,
    QualityGateFailed,
    evaluations,
    gate,
    judge_all,
    only_checks,
)
from taobao_pipeline.defs.metadata import SINGLE_RUN, markdown_table, per_edition, rows, table_spec
from taobao_pipeline.defs.partitions import edition_keys, editions, for_each_edition
from taobao_pipeline.defs.resources import PathsResource, QualityResource, RulesResource
from taobao_pipeline.extracts import ExtractError, estimated_rows, source_files
from taobao_pipeline.ingest import ingest_source, rejected_by_reason
from taobao_pipeline.sources import SOURCES, Source

GROUP = "staged_inputs"
KINDS = {"polars", "pandera", "duckdb"}


def _source_spec(source: Source) -> dg.AssetSpec:
    """The asset of a source's staged table, described from its declaration."""
    upstream = {c: SOURCES[up] for c, up in source.refers.items()}
    parts = ", one or several parts" if source.parts else ""
    refers = "".join(f", {c} an accepted {up.noun}" for c, up in upstream.items())
    staged = f", {source.staged_note}" if source.staged_note else ""
    return table_spec(
        source.staged_as,
        f"{source.description.capitalize()} ({source.stem}.*{parts}): the rows that keep the "
        f"contract's rules (each key once{refers}) staged{staged}; the others rejected with "
        "their reason.",
        deps=[up.staged_as for up in upstream.values()],
        group_name=GROUP,
        kinds=KINDS,
    )


# a tuple, not a list: load_from_defs_folder (definitions.py) would load a module-level
# list of specs as assets of their own
INPUT_SPECS = (
    *(_source_spec(source) for source in SOURCES.values()),
    table_spec(
        "rejected_rows",
        "Every input row the contract's rules refused, with its file, row number, the rule "
        "it broke and its original values.",
        group_name=GROUP,
        kinds={"duckdb"},
    ),
    table_spec(
        "load_audit",
        "Rows read, accepted and rejected per input file. The step fails unless every file "
        "balances (read = accepted + rejected).",
        group_name=GROUP,
        kinds={"duckdb"},
    ),
)

UNBALANCED = """
SELECT source, file, rows_read, rows_accepted, rows_rejected FROM load_audit
WHERE rows_read <> rows_accepted + rows_rejected
"""


def revenue_rows(paths: PathsResource) -> Callable[[int], int]:
    """An edition's revenue rows, as estimated from its files."""

    def rows(edition: int) -> int:
        try:
            files = source_files(paths.raw / str(edition), SOURCES["revenue"])
        except ExtractError:
            return 0  # its ingest fails, naming the file
        return sum(estimated_rows(path) for path in files)

    return rows


@dg.multi_asset(
    name="ingest_extracts",
    specs=INPUT_SPECS,
    check_specs=[c.spec() for c in INPUT_CHECKS],
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    can_subset=True,  # its checks alone, from the UI: judged on the staged editions
)
def ingest_extracts(
    context: dg.AssetExecutionContext,
    paths: PathsResource,
    rules: RulesResource,
    quality: QualityResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation | dg.Output]:
    """Read, validate and stage the villages, then the shops, then the sales of each
    edition of the run (restaging a source clears what was staged on it), then judge each
    edition's input checks: one failed with ERROR severity (the quality gate) stops the
    run here, before anything is computed, unless the operator publishes anyway."""
    keys, wh = edition_keys(context), paths.warehouse
    thresholds = quality.thresholds(rules.rules())
    checks_alone = only_checks(context, wh, INPUT_SPECS, INPUT_CHECKS, thresholds)
    if checks_alone is not None:
        yield from checks_alone
        return

    for source, asset in ((s.name, s.staged_as) for s in SOURCES.values()):

        def one(edition: int, source: str = source) -> dict[str, object]:
            with wh.staging(edition) as stg:
                result = ingest_source(stg, paths.raw, edition, source, thresholds.rules)
            audit = result.audit
            # figures as metadata, not log lines: each log line is an event Dagster stores
            return {
                "files": len(audit),
                "rows_read": int(audit["rows_read"].sum()),
                "rows_accepted": int(audit["rows_accepted"].sum()),
                "rows_rejected": int(audit["rows_rejected"].sum()),
                "rejected_by_reason": markdown_table(
                    [{"reason": r, "rows": n} for r, n in rejected_by_reason(result).items()]
                ),
            }

        # revenue editions share the cores only while their rows add up to no more than the
        # largest edition's: two national years of sales at once raised the peak memory from
        # 2.7 GB to 4.6 GB at scale 1.0
        size = revenue_rows(paths) if source == "revenue" else None
        figures = for_each_edition(keys, one, size=size)
        for edition, f in figures.items():
            if source == "revenue":  # staged summed per shop: its rows are the shops with sales
                with wh.staging(edition) as stg:
                    [(f["shops_with_sales"],)] = stg.conn.execute(
                        "SELECT count(*) FROM shop_sales"
                    ).fetchall()
            f |= rows(f["shops_with_sales"] if source == "revenue" else f["rows_accepted"])
        per_edition(context, asset, figures)
        yield dg.MaterializeResult(asset_key=asset)

    audits, rejections = {}, {}
    for edition in keys:
        with wh.staging(edition) as stg:
            unbalanced = stg.conn.execute(UNBALANCED).fetchall()
            if unbalanced:
                raise dg.Failure(f"edition {edition}: files that do not balance: {unbalanced}")
            audit = stg.conn.sql("SELECT * EXCLUDE (edition) FROM load_audit ORDER BY ALL").pl()
            by_reason = stg.conn.sql(
                "SELECT source, reason, count(*) AS rows FROM rejected_rows "
                "GROUP BY ALL ORDER BY rows DESC, source, reason"
            ).pl()
        audits[edition] = {
            "rows_read": int(audit["rows_read"].sum()),
            "rows_rejected": int(audit["rows_rejected"].sum()),
            "audit": markdown_table(audit.to_dicts()),
        } | rows(audit.height)
        rejections[edition] = {"by_reason": markdown_table(by_reason.to_dicts())} | rows(
            int(by_reason["rows"].sum())
        )
    per_edition(context, "rejected_rows", rejections)
    yield dg.MaterializeResult(asset_key="rejected_rows")
    per_edition(context, "load_audit", audits)
    yield dg.MaterializeResult(asset_key="load_audit")

    verdicts = judge_all(wh, keys, INPUT_CHECKS, thresholds)
    stopped, reason = gate(verdicts), quality.publish_anyway.strip()
    yield from evaluations(context, INPUT_CHECKS, verdicts, overridden=reason)
    if stopped and not reason:
        raise QualityGateFailed(stopped)
