"""When editions run by themselves, and who hears of a failure: the annual schedule, the
raw-folder sensor, the retry of failed runs, and the failure alert."""

import datetime as dt
import hashlib
import json
import os
import time
from pathlib import Path

import dagster as dg

from taobao_pipeline.alerts import Alert, send
from taobao_pipeline.defs.partitions import outside_partitions, partition_range
from taobao_pipeline.defs.resources import PathsResource, RulesResource
from taobao_pipeline.errors import Failure, failures_of, run_editions_label
from taobao_pipeline.extracts import ExtractError, editions_in, source_files
from taobao_pipeline.fingerprints import plan
from taobao_pipeline.rules import Rules
from taobao_pipeline.sources import SOURCES

RUN_DAY = 15  # mid-month after the cut-off: late corrections to the extracts have landed
SETTLE_SECONDS = 300  # a folder still this long is taken as copied (TAOBAO_SETTLE_SECONDS)
MAX_RETRIES = 2  # of a failed scheduled or sensor run
RETRY_DELAY = 600  # seconds to the first retry, doubled for each next one
# run tags: what started a run, and which retry of it this is
ORIGIN, ATTEMPT, RETRY_OF = "taobao/origin", "taobao/attempt", "taobao/retry_of"


def edition_closed(on: dt.date, rules: Rules) -> int | None:
    """The edition whose cut-off month was the month before ``on``, if one was: the
    cut-off month is configuration, per edition."""
    last_month = on.replace(day=1) - dt.timedelta(days=1)
    edition = last_month.year
    return edition if rules.for_edition(edition).cutoff_month == last_month.month else None


def edition_not_ready(folder: Path, settle: float, now: float) -> str | None:
    """Why the edition folder cannot run yet (missing, a source without files, a file
    changed within ``settle`` seconds: still being copied), or None when it can."""
    if not folder.is_dir():
        return f"{folder} does not exist"
    try:
        files = [p for spec in SOURCES.values() for p in source_files(folder, spec)]
    except ExtractError as e:
        return f"{folder} is incomplete: {e}"
    newest = max(p.stat().st_mtime for p in files)
    if now - newest < settle:
        ago = f"{now - newest:.0f} s ago"
        return f"{folder} changed {ago}: waiting until it has been still {settle:.0f} s"
    return None


def settle_seconds() -> float:
    """How long an edition folder must be still before a run reads it
    (``TAOBAO_SETTLE_SECONDS``)."""
    return float(os.environ.get("TAOBAO_SETTLE_SECONDS", SETTLE_SECONDS))


def retry_delay() -> float:
    """Seconds from a failure to its first retry (``TAOBAO_RETRY_DELAY_SECONDS``)."""
    return float(os.environ.get("TAOBAO_RETRY_DELAY_SECONDS", RETRY_DELAY))


def annual_schedule(job: dg.JobDefinition) -> dg.ScheduleDefinition:
    """Mid-month after an edition's cut-off month: materialize the edition whose window
    just closed. It looks every month, as each edition may have its own cut-off month."""

    @dg.schedule(
        job=job,
        cron_schedule=f"0 6 {RUN_DAY} * *",
        name="annual_designation",
        execution_timezone="Asia/Shanghai",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Each year after the cut-off, designate the edition whose window closed. "
        "Skips, saying why, when that edition's folder is missing, incomplete or still being "
        "copied; a failed run is retried by retry_failed_editions.",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, rules: RulesResource, paths: PathsResource
    ) -> dg.RunRequest | dg.SkipReason:
        on = context.scheduled_execution_time.date()
        edition = edition_closed(on, rules.rules())
        if edition is None:
            return dg.SkipReason(f"no edition's cut-off month ended before {on}")
        why = edition_not_ready(paths.raw / str(edition), settle_seconds(), time.time())
        if why is not None:
            return dg.SkipReason(f"edition {edition} cannot run: {why}")
        if plan(paths.raw, paths.warehouse.path, [edition], rules.rules()).skipped:
            return dg.SkipReason(f"edition {edition} is unchanged since it was published")
        return dg.RunRequest(
            run_key=f"annual-{edition}", partition_key=str(edition), tags={ORIGIN: "schedule"}
        )

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
    """A run per new or changed edition folder, once per change (cursor + run key), once
    the folder has been still for the settle time, unless its files, rules and code are
    those it was published from (a file touched, not changed)."""

    @dg.sensor(
        job=job,
        name="new_extracts",
        minimum_interval_seconds=60,
        # off until the operator turns it on: a folder being filled by hand would run early
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Runs an edition when files under data/raw/<edition>/ are added, "
        "replaced or touched, once the folder has been still for TAOBAO_SETTLE_SECONDS "
        f"(default {SETTLE_SECONDS}). Stopped by default: turn it on in the UI "
        "(Automation > new_extracts).",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, paths: PathsResource, rules: RulesResource
    ) -> dg.SensorResult:
        # edition -> {"seen": fingerprint, "since": when first seen so, "done": requested}
        cursor: dict[str, dict] = json.loads(context.cursor) if context.cursor else {}
        for edition, state in cursor.items():  # a cursor of before the settle time: the
            if isinstance(state, str):  # fingerprint requested, long still
                cursor[edition] = {"seen": state, "since": 0.0, "done": state}
        found = editions_in(paths.raw)
        stray = outside_partitions(found)
        if stray:
            # a folder such as data/raw/2008 is not an edition: said, and the others run
            first, last = partition_range()
            context.log.warning(f"folders outside the editions {first}-{last}: {stray}")
        now, settle = time.time(), settle_seconds()
        ready = []
        for edition in (e for e in found if e not in stray):
            fingerprint = folder_fingerprint(paths.raw / str(edition))
            state = cursor.setdefault(str(edition), {})
            if state.get("seen") != fingerprint:  # new or still changing: wait from now
                state.update(seen=fingerprint, since=now)
            if state.get("done") == fingerprint:
                continue
            if now - state["since"] < settle:
                context.log.info(f"edition {edition}: waiting until its folder is still")
                continue
            state["done"] = fingerprint
            ready.append(edition)
        todo = plan(paths.raw, paths.warehouse.path, ready, rules.rules())
        requests = [
            dg.RunRequest(
                run_key=f"{e}-{cursor[str(e)]['seen']}",
                partition_key=str(e),
                tags={ORIGIN: "sensor"},
            )
            for e in sorted(todo.run)
        ]
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))

    return _sensor


def retry_sensor(job: dg.JobDefinition) -> dg.SensorDefinition:
    """Runs of the schedule and the sensor that failed, run again with backoff: the n-th
    retry of a run waits ``retry_delay() * 2**(n-1)`` after its failure, at most
    ``MAX_RETRIES`` times. A run the instance retries itself (its worker died: run
    monitoring and run_retries of dagster.yaml) is left to it."""

    @dg.sensor(
        job=job,
        name="retry_failed_editions",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Retries a failed scheduled or sensor run up to {MAX_RETRIES} times, "
        f"waiting {RETRY_DELAY // 60} min, then twice as long each time.",
    )
    def _retry(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        now = time.time()
        runs = context.instance.get_runs(
            dg.RunsFilter(job_name=job.name, statuses=[dg.DagsterRunStatus.FAILURE]), limit=50
        )
        requests = []
        for run in runs:
            attempt = int(run.tags.get(ATTEMPT, "0"))
            if run.tags.get(ORIGIN) not in ("schedule", "sensor") or attempt >= MAX_RETRIES:
                continue
            if run.tags.get("dagster/will_retry") == "true":
                continue
            record = context.instance.get_run_record_by_id(run.run_id)
            ended = record.end_time if record and record.end_time else now
            if now - ended < retry_delay() * 2**attempt:
                continue
            tags = {k: v for k, v in run.tags.items() if k.startswith("dagster/asset_partition")}
            tags |= {ORIGIN: run.tags[ORIGIN], ATTEMPT: str(attempt + 1), RETRY_OF: run.run_id}
            requests.append(
                dg.RunRequest(
                    run_key=f"retry-{run.run_id}",  # each failed run is retried once
                    partition_key=run.tags.get("dagster/partition"),
                    tags=tags,
                )
            )
        return dg.SensorResult(run_requests=requests)

    return _retry


def _run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process a run executes in, as its in-process executor logged it."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        pid = data.metadata.get("pid") if data is not None and data.metadata else None
        if pid is not None:
            return int(pid.value)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: there
        return True
    return True


def dead_run_sensor() -> dg.SensorDefinition:
    """Runs marked as started whose process is gone (killed, or its machine restarted)
    are marked failed, so that the instance's run retries run them again and the alert
    goes out. Dagster's run monitoring cannot tell for runs of its default launcher; the
    run's process id is in its log, and runs are launched on the daemon's machine."""

    @dg.sensor(
        name="fail_dead_runs",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks failed a started run whose process is gone (killed or crashed): "
        "its alert goes out and the instance retries it.",
    )
    def _dead(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        started = context.instance.get_runs(
            dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=100
        )
        failed = []
        for run in started:
            pid = _run_pid(context.instance, run.run_id)
            if pid is not None and not _alive(pid):
                context.instance.report_run_failed(
                    run, f"its process (pid {pid}) is gone: it was killed or crashed"
                )
                failed.append(run.run_id)
        return dg.SkipReason(f"marked failed: {failed}" if failed else "no dead run")

    return _dead


def failure_alert_sensor() -> dg.SensorDefinition:
    """An alert for every failed run of the code location (``alerts.send``)."""

    @dg.run_failure_sensor(
        name="alert_on_failure",
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Every failed run: an alert naming the editions, the failure and what to "
        "do, to $DAGSTER_HOME/alerts.log (TAOBAO_ALERT_LOG), and to TAOBAO_ALERT_WEBHOOK and "
        "TAOBAO_ALERT_EMAIL_TO when set.",
    )
    def _alert(context: dg.RunFailureSensorContext) -> None:
        run, editions = context.dagster_run, run_editions_label(context.dagster_run.tags)
        steps = context.get_step_failure_events()  # read from the run's log once
        if steps or not context.failure_event.message:
            failures = failures_of(steps, run.tags)
        else:  # the run failed outside its steps (its process gone, say)
            failures = [Failure(editions, "", context.failure_event.message)]
        alert = Alert(
            editions=editions,
            failures=[str(f).removeprefix("error: ").replace("\n  ", " ") for f in failures],
            run_id=run.run_id,
            origin=run.tags.get(ORIGIN, "launched from the UI or the command line"),
        )
        reached = send(alert)
        context.log.info(f"alert for run {run.run_id} sent to: {', '.join(reached)}")

    return _alert
