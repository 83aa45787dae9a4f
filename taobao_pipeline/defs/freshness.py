"""Whether each edition is published by its deadline: a check per edition, and a daily
sensor that records it for the latest edition due.

An edition's window closes at the end of its cut-off month (June by default); the schedule
runs it on the 15th after, and it is due by 1 September of its year. Dagster's own freshness
policy judges the latest materialization of any edition, so a table read "fresh" in December
with that year's edition missing; this judges the edition that is due.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from taobao_pipeline.defs.checks import Verdict, evaluation, results
from taobao_pipeline.defs.partitions import FIRST_EDITION, edition_keys, editions
from taobao_pipeline.defs.resources import PathsResource, RulesResource
from taobao_pipeline.rules import Rules
from taobao_pipeline.warehouse import Warehouse

ASSET, NAME = "national_summary", "edition_on_time"
DEADLINE = (9, 1)  # month, day of the edition's year
ZONE = "Asia/Shanghai"


def deadline(edition: int) -> dt.date:
    return dt.date(edition, *DEADLINE)


def latest_due(today: dt.date) -> int:
    """The latest edition whose deadline has passed on ``today``."""
    return today.year if today >= deadline(today.year) else today.year - 1


def published_editions(warehouse: Path) -> set[int]:
    """The editions the warehouse holds (a withdrawn edition is in no table)."""
    if not Path(warehouse).exists():
        return set()
    with Warehouse(warehouse).read_only() as conn:
        found = conn.execute("SELECT DISTINCT edition FROM national_summary").fetchall()
    return {e for (e,) in found}


def on_time(edition: int, published: set[int], today: dt.date, rules: Rules) -> Verdict:
    """Whether ``edition`` is published, if its deadline has passed on ``today``."""
    cutoff = dt.date(edition, rules.for_edition(edition).cutoff_month, 1).strftime("%B %Y")
    due = f"{deadline(edition):%-d %B %Y}"
    if edition in published:
        return Verdict(True, f"Edition {edition} is published (due by {due})")
    if today < deadline(edition):
        return Verdict(True, f"Edition {edition} is not due yet: cut-off {cutoff}, due by {due}")
    return Verdict(
        False,
        f"Edition {edition} is missing: its cut-off month ({cutoff}) and its deadline "
        f"({due}) have passed and it is not published",
        severity=dg.AssetCheckSeverity.WARN,
    )


def today() -> dt.date:
    """Today where the editions are published."""
    return dt.datetime.now(ZoneInfo(ZONE)).date()


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            NAME,
            asset=ASSET,
            partitions_def=editions,
            blocking=False,
            description="The edition is published by 1 September of its year (its cut-off "
            "month, June by default, closed; the schedule runs on the 15th after). Judged "
            "after every run for its editions, daily for the latest edition due (sensor "
            "edition_deadline), and from the UI for the editions chosen.",
        )
    ]
)
def edition_on_time(
    context: dg.AssetCheckExecutionContext, paths: PathsResource, rules: RulesResource
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """Whether each edition of the run is published, if it is due."""
    published, now, in_force = published_editions(paths.warehouse.path), today(), rules.rules()
    op = context.op_execution_context
    verdicts = {e: on_time(e, published, now, in_force) for e in edition_keys(op)}
    yield from results(op, ASSET, NAME, verdicts)


@dg.sensor(
    name="edition_deadline",
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every six hours: records national_summary's edition_on_time check for the "
    "latest edition whose deadline (1 September of its year) has passed, so that a missing "
    "edition shows as a failed check for it.",
)
def edition_deadline(
    context: dg.SensorEvaluationContext, paths: PathsResource, rules: RulesResource
) -> dg.SkipReason:
    edition = latest_due(today())
    if edition < FIRST_EDITION:
        return dg.SkipReason("no edition is due yet")
    try:
        published = published_editions(paths.warehouse.path)
    except duckdb.Error as e:  # a run holds the warehouse: judged at its end anyway
        return dg.SkipReason(f"the warehouse cannot be read now ({e}); edition {edition} later")
    verdict = on_time(edition, published, today(), rules.rules())
    context.instance.report_runless_asset_event(evaluation(ASSET, NAME, edition, verdict))
    return dg.SkipReason(verdict.summary)
