"""When editions run by themselves: the annual schedule and the raw-folder sensor."""

import datetime as dt
import hashlib
import json
from pathlib import Path

import dagster as dg

from taobao_pipeline.extracts import editions_in
from taobao_pipeline.fingerprints import plan
from taobao_pipeline.partitions import outside_partitions, partition_range
from taobao_pipeline.resources import PathsResource, RulesResource
from taobao_pipeline.rules import Rules

RUN_DAY = 15  # mid-month after the cut-off: late corrections to the extracts have landed


def edition_closed(on: dt.date, rules: Rules) -> int | None:
    """The edition whose cut-off month was the month before ``on``, if one was: the
    cut-off month is configuration, per edition."""
    last_month = on.replace(day=1) - dt.timedelta(days=1)
    edition = last_month.year
    return edition if rules.for_edition(edition).cutoff_month == last_month.month else None


def annual_schedule(job: dg.JobDefinition) -> dg.ScheduleDefinition:
    """Mid-month after an edition's cut-off month: materialize the edition whose window
    just closed. It looks every month, as each edition may have its own cut-off month."""

    @dg.schedule(
        job=job,
        cron_schedule=f"0 6 {RUN_DAY} * *",
        name="annual_designation",
        execution_timezone="Asia/Shanghai",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Each year after the cut-off, designate the edition whose window closed.",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, rules: RulesResource, paths: PathsResource
    ) -> dg.RunRequest | dg.SkipReason:
        on = context.scheduled_execution_time.date()
        edition = edition_closed(on, rules.rules())
        if edition is None:
            return dg.SkipReason(f"no edition's cut-off month ended before {on}")
        if plan(paths.raw, paths.warehouse.path, [edition], rules.rules()).skipped:
            return dg.SkipReason(f"edition {edition} is unchanged since it was published")
        return dg.RunRequest(run_key=f"annual-{edition}", partition_key=str(edition))

    return _schedule


def folder_fingerprint(folder: Path) -> str:
    """A digest of every file's name, size and modification time under ``folder``."""
    entries = sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    )
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()[:16]


def raw_folder_sensor(job: dg.JobDefinition) -> dg.SensorDefinition:
    """A run per new or changed edition folder, once per change (cursor + run key), unless
    its files, rules and code are those it was published from (a file touched, not changed)."""

    @dg.sensor(
        job=job,
        name="new_extracts",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Runs an edition when files under data/raw/<edition>/ are added, "
        "replaced or touched. Turn it on in the UI (Automation > new_extracts).",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, paths: PathsResource, rules: RulesResource
    ) -> dg.SensorResult:
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        found = editions_in(paths.raw)
        stray = outside_partitions(found)
        if stray:
            # a folder such as data/raw/2008 is not an edition: said, and the others run
            first, last = partition_range()
            context.log.warning(f"folders outside the editions {first}-{last}: {stray}")
        now = {str(e): folder_fingerprint(paths.raw / str(e)) for e in found if e not in stray}
        changed = [int(key) for key in now if seen.get(key) != now[key]]
        todo = plan(paths.raw, paths.warehouse.path, changed, rules.rules())
        requests = [
            dg.RunRequest(run_key=f"{e}-{now[str(e)]}", partition_key=str(e))
            for e in sorted(todo.run)
        ]
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(now, sort_keys=True))

    return _sensor
