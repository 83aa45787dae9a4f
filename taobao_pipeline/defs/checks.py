"""Asset checks: the contract's guarantees, judged for each edition a run builds.

A check is registered once, its spec and its judgement together (``@check``): the
judgement looks at one edition's staged tables and returns a ``Verdict`` in words (the
figure, the threshold, the verdict) with up to ``CASES`` failure cases. The step that
builds a check's asset judges it, before anything is published, and records one result
per edition (``evaluations``), whatever the run's range: the UI shows each edition's own.

The quality gate is no separate rule: it is the input checks that fail with ERROR
severity (``gate``). The designations are judged against the rule restated independently
of the SQL (``restated_rules``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

import dagster as dg
import polars as pl
import pyarrow.parquet as pq

from taobao_pipeline.budget import memory_budget
from taobao_pipeline.cluster_checks import cluster_tier_violations, villages_in_clusters_violations
from taobao_pipeline.defs.metadata import markdown_table
from taobao_pipeline.defs.partitions import editions, for_each_edition
from taobao_pipeline.reconciliation import reconcile
from taobao_pipeline.restated_rules import (
    VILLAGE_COLUMNS,
    active_shops_by_village,
    taobao_town_codes,
    taobao_village_codes,
)
from taobao_pipeline.rules import DEFAULT, Rules
from taobao_pipeline.sources import SOURCES
from taobao_pipeline.staging import Staging
from taobao_pipeline.tables import TABLES
from taobao_pipeline.warehouse import Warehouse

ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
CASES = 10  # failure cases shown with a result, as PUDL shows them


@dataclass(frozen=True)
class Thresholds:
    """What a judgement needs beside the staging: the rules and the quality thresholds."""

    rules: Rules
    warn_share: Decimal  # QualityResource's, where their defaults are stated
    error_share: Decimal


@dataclass(frozen=True)
class Verdict:
    """One check on one edition: passed or not, with what severity, said in a sentence."""

    passed: bool
    summary: str
    severity: dg.AssetCheckSeverity = ERROR
    figures: dict[str, object] = field(default_factory=dict)
    cases: list[dict[str, object]] = field(default_factory=list)

    @property
    def failed_with_error(self) -> bool:
        return not self.passed and self.severity == ERROR

    def metadata(self) -> dict[str, object]:
        shown: dict[str, object] = {"result": dg.MetadataValue.text(self.summary), **self.figures}
        if self.cases:
            shown["failure_cases"] = markdown_table(self.cases)
        return shown


Judge = Callable[[Staging, int, Thresholds], Verdict]


@dataclass(frozen=True)
class Check:
    """A check of an asset: its name, what it promises, its judgement of one edition."""

    name: str
    asset: str
    description: str
    judge: Judge
    blocking: bool = True

    @property
    def key(self) -> str:
        return f"{self.asset}:{self.name}"

    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            blocking=self.blocking,
            description=self.description,
            partitions_def=editions,
        )


INPUT_CHECKS: list[Check] = []  # judged by ingest_extracts
DESIGNATION_CHECKS: list[Check] = []  # judged by designate_and_publish, on its staging


def check(
    registry: list[Check],
    asset: str,
    description: str,
    *,
    name: str | None = None,
    blocking: bool = True,
) -> Callable[[Judge], Judge]:
    """Register the decorated judgement as a check of ``asset`` (named after it)."""

    def register(judge: Judge) -> Judge:
        registry.append(Check(name or judge.__name__, asset, description, judge, blocking))
        return judge

    return register


def judge_all(
    warehouse: Warehouse, keys: list[int], checks: list[Check], thresholds: Thresholds
) -> dict[int, dict[str, Verdict]]:
    """Every check of ``checks`` on every edition, each edition's staging opened once."""

    def one(edition: int) -> dict[str, Verdict]:
        with warehouse.staging(edition) as stg:
            return {c.key: c.judge(stg, edition, thresholds) for c in checks}

    return for_each_edition(keys, one)


def only_checks(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    specs: list[dg.AssetSpec],
    checks: list[Check],
    t: Thresholds,
) -> Iterator[dg.AssetCheckEvaluation | dg.Output] | None:
    """A run of a step's checks alone (the UI's *Execute* on them, for chosen editions):
    they are judged on the editions' staged tables, and nothing is built or published.
    None when the run builds the step's assets (``specs``): all of them, as the step
    publishes an edition whole (a part of them is refused, saying so)."""
    every = {s.key for s in specs}
    if context.selected_asset_keys == every:
        return None
    if context.selected_asset_keys:
        raise dg.Failure(
            f"{context.op_def.name} builds and publishes its tables together: select all of "
            f"them ({', '.join(sorted(k.to_user_string() for k in every))}) or only checks"
        )
    chosen = [
        c
        for c in checks
        if dg.AssetCheckKey(dg.AssetKey(c.asset), c.name) in context.selected_asset_check_keys
    ]
    keys = [int(k) for k in context.partition_keys]
    return evaluations(context, chosen, judge_all(warehouse, keys, chosen, t))


def gate(verdicts: dict[int, dict[str, Verdict]]) -> dict[int, list[str]]:
    """The quality gate: of the input checks' ``verdicts``, per edition, those failed with
    ERROR severity, each as ``asset:check: sentence``. Such an edition is not published
    unless the operator says why it should be (``publish_anyway``)."""
    failed = {
        e: [f"{k}: {v.summary}" for k, v in by.items() if v.failed_with_error]
        for e, by in verdicts.items()
    }
    return {e: f for e, f in failed.items() if f}


def evaluation(
    asset: str, name: str, edition: int, verdict: Verdict, blocking: bool = False
) -> dg.AssetCheckEvaluation:
    """The result of the check ``asset:name`` for one edition, as the UI shows it."""
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(asset),
        check_name=name,
        passed=verdict.passed,
        metadata=verdict.metadata(),
        severity=verdict.severity,
        description=verdict.summary,
        blocking=blocking,
        partition=str(edition),
    )


def check_output(context: dg.OpExecutionContext, asset: str, name: str) -> dg.Output:
    """The output a step owes for a check it judged (its results were logged already)."""
    outputs = context.assets_def.check_specs_by_output_name
    key = dg.AssetCheckKey(dg.AssetKey(asset), name)
    return dg.Output(None, output_name=next(o for o, s in outputs.items() if s.key == key))


def results(
    context: dg.OpExecutionContext, asset: str, name: str, verdicts: Mapping[int, Verdict]
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """The non-blocking check ``asset:name``'s result for each edition, then its output."""
    for edition, verdict in sorted(verdicts.items()):
        yield evaluation(asset, name, edition, verdict)
    yield check_output(context, asset, name)


def evaluations(
    context: dg.OpExecutionContext,
    checks: list[Check],
    verdicts: dict[int, dict[str, Verdict]],
    overridden: str = "",
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """One result per check and edition, each carrying its edition (a range run's too),
    then the check's output. ``overridden``: the operator's reason to publish over a
    failed gate, said with each failure it overrode (then no longer blocking)."""
    chosen = context.selected_asset_check_keys
    for c in checks:
        if dg.AssetCheckKey(dg.AssetKey(c.asset), c.name) not in chosen:
            continue  # judged (a blocking check still stops the step), not recorded
        for edition, by in sorted(verdicts.items()):
            verdict = by[c.key]
            if overridden and verdict.failed_with_error:
                summary = f"{verdict.summary}; published anyway: {overridden}"
                verdict = replace(verdict, summary=summary)
                yield evaluation(c.asset, c.name, edition, verdict)
            else:
                yield evaluation(c.asset, c.name, edition, verdict, c.blocking)
        yield check_output(context, c.asset, c.name)


def _n(value: int) -> str:
    return f"{value:,}"


def _staged(stg: Staging, table: str, columns: list[str]) -> pl.DataFrame:
    """Columns of a staged table, read by polars (not through the SQL that computed it)."""
    files = stg.files(table)
    if not files:
        schema = TABLES[table].polars_schema()
        return pl.DataFrame(schema={c: schema[c] for c in columns})
    return pl.read_parquet(files, columns=columns)


def _scanned(stg: Staging, table: str, columns: list[str]) -> pl.LazyFrame:
    """``_staged``, to be read lazily (by parts, in ``active_shops_by_village``)."""
    files = stg.files(table)
    if not files:
        return _staged(stg, table, columns).lazy()
    return pl.scan_parquet(files).select(columns)


# bytes a shop costs while the activity rule is restated (its id, village, dates, sales,
# the join's table): measured 130 at scale 4
RESTATED_BYTES_PER_SHOP = 130


def restated_buckets(shops: int, budget: int | None = None) -> int:
    """In how many buckets the activity rule is restated over ``shops`` shops, so that one
    bucket takes at most half the memory budget: 1 up to ~8M shops under 2 GB."""
    per_bucket = (budget or memory_budget()) // 2 // RESTATED_BYTES_PER_SHOP
    return max(1, -(-shops // per_bucket))


# --- the staged inputs -------------------------------------------------------------------

REJECTED_CASES = f"""
SELECT file, row_number, reason, record FROM rejected_rows WHERE source = $s
ORDER BY file, row_number LIMIT {CASES}
"""


def _rejected_share(source: str) -> Judge:
    def judge(stg: Staging, _: int, t: Thresholds) -> Verdict:
        read, rejected = stg.conn.execute(
            "SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_rejected), 0) "
            "FROM load_audit WHERE source = $s",
            {"s": source},
        ).fetchall()[0]
        share = Decimal(rejected) / max(read, 1)
        over = "error" if share > t.error_share else "warning" if share > t.warn_share else ""
        limit = t.error_share if over == "error" else t.warn_share
        shown = f"{share:.1%}" if share >= Decimal("0.01") or not share else f"{share:.2%}"
        summary = (
            f"{shown} of {SOURCES[source].noun} rows rejected ({_n(rejected)} of {_n(read)}); "
            + (
                f"{over} threshold {limit:.0%}"
                if over
                else f"under the warning threshold {t.warn_share:.0%}"
            )
        )
        cases = stg.conn.execute(REJECTED_CASES, {"s": source}).fetchall() if rejected else []
        return Verdict(
            passed=not over,
            summary=summary,
            severity=ERROR if over == "error" else WARN,
            figures={"rejected_percent": float(round(share * 100, 2)), "rows_rejected": rejected},
            cases=[{"file": f, "row": r, "reason": why, "values": v} for f, r, why, v in cases],
        )

    return judge


for _source in SOURCES.values():  # judged on the source's staged table
    check(
        INPUT_CHECKS,
        _source.staged_as,
        f"The share of {_source.noun} rows rejected by the contract's rules: a warning above "
        "the quality resource's warning share (1%), an ERROR above its error share (5%), which "
        "stops the edition's publish (the quality gate) unless the operator publishes anyway.",
        name="rejected_share",
    )(_rejected_share(_source.name))


STAGED_ROWS = """
SELECT source, audited, staged FROM (
    SELECT source, sum(rows_accepted) AS audited FROM load_audit GROUP BY source
) a JOIN (
    SELECT 'villages' AS source, count(*) AS staged FROM villages
    UNION ALL SELECT 'shops', count(*) FROM shops
    UNION ALL SELECT 'revenue', coalesce(sum(sales_rows), 0) FROM shop_sales
) s USING (source)
WHERE audited <> staged
"""


@check(
    INPUT_CHECKS,
    "load_audit",
    "Every input file: rows read = rows accepted + rows rejected, and the staged tables "
    "hold exactly the accepted rows. An ERROR stops the edition's publish (the quality gate).",
)
def load_audit_balances(stg: Staging, _: int, __: Thresholds) -> Verdict:
    unbalanced = stg.conn.execute(
        "SELECT source, file, rows_read, rows_accepted, rows_rejected FROM load_audit "
        "WHERE rows_read <> rows_accepted + rows_rejected"
    ).fetchall()
    mismatched = stg.conn.execute(STAGED_ROWS).fetchall()
    files = stg.conn.execute("SELECT count(*) FROM load_audit").fetchall()[0][0]
    if not unbalanced and not mismatched:
        return Verdict(True, f"All {files} input files balance: rows read = accepted + rejected")
    cases = [
        {"source": s, "file": f, "read": r, "accepted": a, "rejected": x}
        for s, f, r, a, x in unbalanced
    ] + [
        {"source": s, "file": "(staged)", "read": "", "accepted": a, "rejected": f"staged {st}"}
        for s, a, st in mismatched
    ]
    return Verdict(
        False,
        f"{len(unbalanced)} files where rows read differ from accepted + rejected, "
        f"{len(mismatched)} sources whose staged rows differ",
        cases=cases[:CASES],
    )


class QualityGateFailed(dg.Failure):
    """Editions failed a quality check of ERROR severity: they were not published.

    A failure of the data, said as facts (the checks, figures, thresholds): what to do
    depends on where the run was launched and is said by ``errors.Failure.advice``. Never
    retried (``allow_retries=False``; ``errors.PREDICTABLE``): the same files fail the same
    way."""

    def __init__(self, failed: dict[int, list[str]]) -> None:
        if len(failed) == 1:
            [(edition, checks)] = failed.items()
            facts = "; ".join(checks)
            text = f"edition {edition} not published: the quality gate failed: {facts}"
        else:
            editions = ",".join(str(e) for e in failed)
            by_edition = "; ".join(f"edition {e}: {'; '.join(f)}" for e, f in failed.items())
            text = f"editions {editions} not published: the quality gate failed: {by_edition}"
        super().__init__(
            text,
            metadata={f"edition {e}": "; ".join(f) for e, f in failed.items()},
            allow_retries=False,
        )


class BlockingChecksFailed(dg.Failure):
    """A blocking check failed for the run's editions: nothing was published. Never
    retried: the same staged tables fail the same way."""

    def __init__(self, editions: list[int], failed: list[str]) -> None:
        super().__init__(
            f"editions {editions} not published: blocking checks failed: {', '.join(failed)}",
            allow_retries=False,
        )


def override_notes(failed: dict[int, list[str]], reason: str) -> dict[int, str]:
    """What ``edition_provenance`` records of editions published over a failed gate."""
    return {
        e: f"published over a failed quality gate ({'; '.join(f)}); reason: {reason}"
        for e, f in failed.items()
    }


# --- the designations ---------------------------------------------------------------------


def _agreement(mismatches: dict[str, set[str]], agreed: str, unit: str) -> Verdict:
    """A verdict of the computation against the restated rule: passed when every set of
    ``mismatches`` is empty; up to ``CASES`` of the codes that disagree as cases."""
    wrong = {what: codes for what, codes in mismatches.items() if codes}
    if not wrong:
        return Verdict(True, agreed, figures={"mismatches": 0})
    said = "; ".join(f"{_n(len(codes))} {what}" for what, codes in wrong.items())
    cases = [
        {unit: code, "disagreement": what}
        for what, codes in wrong.items()
        for code in sorted(codes)
    ]
    total = sum(len(c) for c in wrong.values())
    return Verdict(False, said, figures={"mismatches": total}, cases=cases[:CASES])


@check(
    DESIGNATION_CHECKS,
    "village_metrics",
    "Each village's active shops are those the contract's activity rule gives "
    f"({DEFAULT.active_words}), recounted from the staged shops independently of the SQL.",
)
def active_shops_follow_rule(stg: Staging, edition: int, t: Thresholds) -> Verdict:
    shops = _scanned(stg, "shops", ["shop_id", "village_code", "opened_on", "closed_on"])
    sales = _scanned(stg, "shop_sales", ["shop_id", "recent_orders"])
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in stg.files("shops"))
    by_rule = active_shops_by_village(shops, sales, edition, t.rules, restated_buckets(rows))
    metrics = _staged(stg, "village_metrics", ["village_code", "active_shops"])
    # a full join: a village counted by the rule but missing from the metrics is wrong too
    compared = metrics.join(by_rule, on="village_code", how="full", coalesce=True)
    off = compared.filter(
        pl.col("active_shops").fill_null(-1) != pl.col("active_by_rule").fill_null(0)
    )
    return _agreement(
        {"villages whose active shops differ from the rule's count": set(off["village_code"])},
        f"The active shops of all {_n(metrics.height)} villages agree with the activity rule",
        "village_code",
    )


@check(
    DESIGNATION_CHECKS,
    "taobao_villages",
    "The designated villages are exactly those that meet the three criteria, judged by "
    "the rule restated independently of the SQL.",
)
def designations_follow_criteria(stg: Staging, edition: int, t: Thresholds) -> Verdict:
    metrics = _staged(stg, "village_metrics", [*VILLAGE_COLUMNS, "is_taobao_village"])
    by_rule = taobao_village_codes(metrics, edition, t.rules)
    flagged = set(metrics.filter(pl.col("is_taobao_village"))["village_code"].to_list())
    listed = set(_staged(stg, "taobao_villages", ["village_code"])["village_code"].to_list())
    return _agreement(
        {
            "designated without meeting the criteria": listed - by_rule,
            "meeting the criteria but not designated": by_rule - listed,
            "flagged in village_metrics against the rule": flagged ^ by_rule,
        },
        f"All {_n(len(listed))} Taobao villages meet the criteria, and no other village does",
        "village_code",
    )


@check(
    DESIGNATION_CHECKS,
    "taobao_towns",
    f"The Taobao towns are exactly the townships the town rule designates ({DEFAULT.town_words}), "
    "restated independently of the SQL.",
)
def towns_follow_rule(stg: Staging, edition: int, t: Thresholds) -> Verdict:
    columns = ["village_code", "revenue_rmb", "active_shops", "is_taobao_village"]
    by_rule = taobao_town_codes(_staged(stg, "village_metrics", columns), edition, t.rules)
    listed = set(_staged(stg, "taobao_towns", ["township_code"])["township_code"].to_list())
    return _agreement(
        {
            "towns the rule does not designate": listed - by_rule,
            "townships the rule designates, missing": by_rule - listed,
        },
        f"All {_n(len(listed))} Taobao towns follow the town rule, and no other township does",
        "township_code",
    )


NATIONAL_MINUS_PROVINCES = """
SELECT n.taobao_villages - p.v, n.taobao_towns - p.t, n.revenue_rmb - p.r, n.active_shops - p.a
FROM national_summary n, (
    SELECT coalesce(sum(taobao_villages), 0) AS v, coalesce(sum(taobao_towns), 0) AS t,
           coalesce(sum(revenue_rmb), 0) AS r, coalesce(sum(active_shops), 0) AS a
    FROM province_summary) p
"""


@check(
    DESIGNATION_CHECKS,
    "national_summary",
    "The national Taobao villages, towns, revenue and active shops equal the sums of the "
    "provinces.",
)
def national_equals_provinces(stg: Staging, _: int, __: Thresholds) -> Verdict:
    rows = stg.conn.execute(NATIONAL_MINUS_PROVINCES).fetchall()
    names = ("Taobao villages", "Taobao towns", "revenue (RMB)", "active shops")
    diffs = dict(zip(names, rows[0] if rows else (None,) * 4, strict=True))
    off = {k: v for k, v in diffs.items() if v != 0}
    if not off:
        return Verdict(
            True, "Taobao villages, towns, revenue and active shops equal the sums of the provinces"
        )
    return Verdict(
        False,
        "National minus the provinces' sum: "
        + ", ".join(f"{k} {'missing' if v is None else v}" for k, v in off.items()),
        cases=[{"figure": k, "national minus provinces": str(v)} for k, v in off.items()],
    )


def _violations(found: pl.DataFrame, held: str) -> Verdict:
    """A verdict of the cluster tables' invariants: passed when ``found`` has no row."""
    if found.is_empty():
        return Verdict(True, held, figures={"violations": 0})
    said = "; ".join(f"{n:,} {what}" for what, n in found["violation"].value_counts().iter_rows())
    return Verdict(
        False, said, figures={"violations": found.height}, cases=found.head(CASES).to_dicts()
    )


@check(
    DESIGNATION_CHECKS,
    "taobao_clusters",
    "Villages in clusters <= villages: a cluster holds no more Taobao villages than its "
    "county-level unit has (recounted from taobao_villages), and the nation's villages in "
    "clusters are the clusters' sum and at most its Taobao villages.",
)
def villages_in_clusters(stg: Staging, _: int, __: Thresholds) -> Verdict:
    return _violations(
        villages_in_clusters_violations(stg.conn),
        "Every cluster's Taobao villages are its unit's, and the villages in clusters are at "
        "most the nation's Taobao villages",
    )


@check(
    DESIGNATION_CHECKS,
    "taobao_clusters",
    "Tiers nested: each cluster's tier follows its Taobao villages (10, 30, 100), a "
    "super-large cluster is large, no unit of 10 Taobao villages or more is left out, and "
    "the nation counts super-large <= large <= clusters.",
)
def tiers_nested(stg: Staging, _: int, __: Thresholds) -> Verdict:
    return _violations(
        cluster_tier_violations(stg.conn),
        "Every cluster's tier follows its Taobao villages, and the tiers are nested",
    )


def record_verdict(figures: pl.DataFrame) -> Verdict:
    """The edition's figures (its rows of ``reconciliation``) against their tolerances."""
    if figures.is_empty():
        return Verdict(True, "No published figure for this edition", severity=WARN)
    off = figures.filter(~pl.col("within_tolerance"))
    total = figures.height
    cases = [
        {
            "measure": r["measure"],
            "published": str(r["published"]),
            "computed": str(r["computed"]),
            "relative difference": f"{r['relative_difference']:.2%}"
            if r["relative_difference"] is not None
            else "",
        }
        for r in off.head(CASES).to_dicts()
    ]
    if off.is_empty():
        summary = f"All {total} published figures match (counts exact, money and shops within 1%)"
    else:
        summary = f"{off.height} of {total} published figures off the record: " + ", ".join(
            str(m) for m in off["measure"].to_list()
        )
    return Verdict(
        off.is_empty(),
        summary,
        severity=WARN,
        figures={"published_figures": total, "off_record": off.height},
        cases=cases,
    )


@check(
    DESIGNATION_CHECKS,
    "national_summary",
    "The edition's figures against the published record (counts exact, money and shops "
    "within 1%); warns with the differences.",
    blocking=False,
)
def matches_published_record(stg: Staging, _: int, __: Thresholds) -> Verdict:
    """Judged on the staged tables; a publish judges the figures it reconciled instead
    (``record_verdict`` of the published reconciliation)."""
    return record_verdict(reconcile(stg.conn, stg.schema))


def verdicts_of_record(reconciled: pl.DataFrame, keys: list[int]) -> dict[int, Verdict]:
    """``record_verdict`` of each edition's rows of a published reconciliation."""
    return {e: record_verdict(reconciled.filter(pl.col("edition") == e)) for e in keys}
