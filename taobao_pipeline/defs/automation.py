"""When editions run by themselves, and who hears of a failure: the annual schedule, the
raw-folder sensor, the retry of failed runs, and the failure alert."""

import calendar
import datetime as dt
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from taobao_pipeline.alerts import Alert, send
from taobao_pipeline.defs.partitions import outside_partitions, partition_range
from taobao_pipeline.defs.resources import PathsResource, RulesResource
from taobao_pipeline.errors import Failure, excerpt, failures_of, run_editions_label
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
# a failed step is never the instance's to retry (run_retries): one that may pass is
# retry_failed_editions's, with backoff; one of the data is nobody's (errors.PREDICTABLE)
NO_STEP_RETRIES = {"dagster/retry_on_asset_or_op_failure": "false"}
# what the schedule and the sensors launch writes Dagster's log at INFO to the daemon's
# log (the journal), through the definitions' console logger: without a logger's config a
# run logs at DEBUG with Dagster's own logger, every stack trace included
LOG_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def edition_closed(on: dt.date, rules: Rules) -> int | None:
    """The edition whose cut-off month was the month before ``on``, if one was: the
    cut-off month is configuration, per edition."""
    last_month = on.replace(day=1) - dt.timedelta(days=1)
    edition = last_month.year
    return edition if rules.for_edition(edition).cutoff_month == last_month.month else None


def next_edition_due(on: dt.date, rules: Rules) -> tuple[int, dt.date]:
    """The edition the schedule requests next after ``on``, and the day it does."""
    day = on.replace(day=RUN_DAY)
    for _ in range(12 * 3):  # every edition has a cut-off month: one comes within a year
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=RUN_DAY)
        edition = edition_closed(day, rules)
        if edition is not None and day > on:
            return edition, day
    raise ValueError("no edition's cut-off month in the next three years")


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def next_edition_sentence(on: dt.date, rules: Rules) -> str:
    """``the next edition, 2026, is due after its cut-off month (June) ends: 15 July 2026``."""
    edition, day = next_edition_due(on, rules)
    month = calendar.month_name[rules.for_edition(edition).cutoff_month]
    return (
        f"the next edition, {edition}, is due after its cut-off month ({month}) ends: {_day(day)}"
    )


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
        description=f"On the {RUN_DAY}th of the month after an edition's cut-off month (June "
        f"by default: {RUN_DAY} July), 06:00 Asia/Shanghai, designates that edition; when "
        f"these definitions were loaded ({_day(dt.date.today())}), "
        f"{next_edition_sentence(dt.date.today(), Rules())}. Skips, saying why, when that "
        "edition's folder is missing, incomplete or still being copied, or it is unchanged "
        "since published; a failed run is retried by retry_failed_editions unless its data "
        "failed.",
    )
    def _schedule(
        context: dg.ScheduleEvaluationContext, rules: RulesResource, paths: PathsResource
    ) -> dg.RunRequest | dg.SkipReason:
        on = context.scheduled_execution_time.date()
        edition = edition_closed(on, rules.rules())
        if edition is None:
            last_month = on.replace(day=1) - dt.timedelta(days=1)
            return dg.SkipReason(
                f"no edition's cut-off month ended in {last_month:%B %Y}: "
                f"{next_edition_sentence(on, rules.rules())}"
            )
        why = edition_not_ready(paths.raw / str(edition), settle_seconds(), time.time())
        if why is not None:
            return dg.SkipReason(f"edition {edition} cannot run: {why}")
        if plan(paths.raw, paths.warehouse.path, [edition], rules.rules()).skipped:
            return dg.SkipReason(f"edition {edition} is unchanged since it was published")
        return dg.RunRequest(
            run_key=f"annual-{edition}",
            partition_key=str(edition),
            tags={ORIGIN: "schedule"} | NO_STEP_RETRIES,
            run_config=LOG_CONFIG,
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
                tags={ORIGIN: "sensor"} | NO_STEP_RETRIES,
                run_config=LOG_CONFIG,
            )
            for e in sorted(todo.run)
        ]
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))

    return _sensor


def _minutes(seconds: float) -> str:
    """A delay as a person says it: ``10 min``, ``90 s``, ``2 h``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _step_failures(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[Failure]:
    """The run's step failures as ``Failure``s (launched: advice for the UI)."""
    events = [
        entry.dagster_event
        for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        if entry.dagster_event is not None
    ]
    return failures_of(events, run.tags, launched=True) if events else []


@dataclass(frozen=True)
class Stand:
    """Where a failed run stands: its attempt, how many it may have, who tries it next
    (``Dagster``, the instance's run_retries; ``retry_failed_editions``) and when (epoch
    seconds); or why it is final."""

    attempt: int
    attempts: int
    by: str | None = None
    at: float | None = None
    final_because: str = ""

    def __str__(self) -> str:
        of = f"attempt {self.attempt} of {self.attempts}"
        if self.by == "Dagster":
            return f"{of}, Dagster runs it again now"
        if self.by is not None and self.at is not None:
            return f"{of}, next try at {_clock(self.at)}"
        return f"final: {self.final_because}" if self.final_because else f"final, {of}"


def _clock(at: float) -> str:
    """A time of day on this machine, with its zone (and its date when not today)."""
    when = dt.datetime.fromtimestamp(at).astimezone()
    day = "" if when.date() == dt.date.today() else f"{_day(when.date())} "
    return f"{day}{when:%H:%M %Z}"


def _max_retries(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int:
    """How many times the instance's run_retries may run ``run`` again."""
    if not instance.run_retries_enabled:
        return 0
    try:
        return int(run.tags.get("dagster/max_retries", instance.run_retries_max_retries))
    except ValueError:
        return 0


def stand_of(
    instance: dg.DagsterInstance, run: dg.DagsterRun, failures: list[Failure], ended: float
) -> Stand:
    """Where ``run``, failed at ``ended``, stands. A run that broke (its process killed, an
    error outside the steps) is the instance's to retry at once (run_retries: the tag
    ``dagster/will_retry`` it sets); a step that failed for a reason that may pass (a disk
    full, a busy warehouse, an unknown error) is retry_failed_editions's, with backoff, for
    runs of the schedule and the sensor; a failure of the data is nobody's."""
    if run.tags.get("dagster/will_retry") == "true":
        retry = int(run.tags.get("dagster/retry_number", "0"))
        return Stand(retry + 1, _max_retries(instance, run) + 1, "Dagster")
    attempt = int(run.tags.get(ATTEMPT, "0"))
    if any(f.predictable for f in failures):
        because = "not retried, a failure of the data or a check fails the same way again"
        return Stand(attempt + 1, attempt + 1, final_because=because)
    if run.tags.get("dagster/failure_reason") != "STEP_FAILURE":  # the instance's: spent
        retry = int(run.tags.get("dagster/retry_number", "0"))
        return Stand(retry + 1, _max_retries(instance, run) + 1)
    if run.tags.get(ORIGIN) not in ("schedule", "sensor"):
        where = "the command line" if run.tags.get(ORIGIN) == "command line" else "the UI"
        return Stand(1, 1, final_because=f"not retried, launched from {where}")
    if attempt >= MAX_RETRIES:
        return Stand(attempt + 1, MAX_RETRIES + 1)
    at = ended + retry_delay() * 2**attempt
    return Stand(attempt + 1, MAX_RETRIES + 1, "retry_failed_editions", at)


def retry_sensor(job: dg.JobDefinition) -> dg.SensorDefinition:
    """Runs of the schedule and the sensor whose step failed for a reason that may pass,
    run again with backoff: the n-th retry of a run waits ``retry_delay() * 2**(n-1)``
    after its failure, at most ``MAX_RETRIES`` times (``stand_of``). A failure of the data
    (``errors.PREDICTABLE``) is never retried; a run that broke (killed) is the instance's
    (run_retries of dagster.yaml), at once."""
    delay = retry_delay()

    @dg.sensor(
        job=job,
        name="retry_failed_editions",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Runs again, up to {MAX_RETRIES} times, a scheduled or sensor run whose "
        f"step failed for a reason that may pass: {_minutes(delay)} after it failed, then "
        f"{_minutes(2 * delay)} after the retry failed (TAOBAO_RETRY_DELAY_SECONDS: "
        f"{delay:g}). A bad input file, the quality gate or a failed check are not retried; "
        "a run whose process was killed is retried at once by the instance (run_retries).",
    )
    def _retry(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        now = time.time()
        runs = context.instance.get_run_records(
            dg.RunsFilter(job_name=job.name, statuses=[dg.DagsterRunStatus.FAILURE]), limit=50
        )
        requests = []
        for record in runs:
            run = record.dagster_run
            if run.tags.get(ORIGIN) not in ("schedule", "sensor"):
                continue
            ended = record.end_time or now
            stand = stand_of(context.instance, run, _step_failures(context.instance, run), ended)
            if stand.by != "retry_failed_editions" or stand.at is None or now < stand.at:
                continue
            tags = {k: v for k, v in run.tags.items() if k.startswith("dagster/asset_partition")}
            tags |= {ORIGIN: run.tags[ORIGIN], ATTEMPT: str(stand.attempt), RETRY_OF: run.run_id}
            requests.append(
                dg.RunRequest(
                    run_key=f"retry-{run.run_id}",  # each failed run is retried once
                    partition_key=run.tags.get("dagster/partition"),
                    tags=tags | NO_STEP_RETRIES,
                    run_config=LOG_CONFIG,
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
    """Runs marked as started whose process is gone are marked failed, so that the
    instance's run retries run them again and the alert goes out. When only a run's
    process dies (killed, out of memory), the code server that started it marks it failed
    within a second, saying by which signal; this sensor is for when the code server went
    with it (the daemon killed, the machine restarted), which Dagster's run monitoring
    cannot see for runs of its default launcher until max_runtime_seconds. The run's
    process id is in its log, and runs are launched on the daemon's machine."""

    @dg.sensor(
        name="fail_dead_runs",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks failed a started run whose process is gone while its code server "
        "went too (the daemon killed, the machine restarted): its alert goes out and the "
        "instance retries it. A run whose process alone dies is marked failed by Dagster "
        "within a second.",
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


class _NoTraceForData(logging.Filter):
    """A step failed by its data (``errors.PREDICTABLE``): its one paragraph, no stack
    trace; the UI's run page keeps the trace of every failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        error = getattr(event.event_specific_data, "error", None) if event else None
        while error is not None:  # the error itself, or a cause of Dagster's wrapping
            message = error.message.strip().partition(": ")[2] or error.message.strip()
            if Failure("", error.cls_name, message).predictable:
                head = record.getMessage().split("\n\n", 1)[0]
                record.msg, record.args = f"{head} {excerpt(message)}", ()
                break
            error = error.cause
        return True


@dg.logger(
    {
        "log_level": dg.Field(str, is_required=False, default_value="INFO"),
        "name": dg.Field(str, is_required=False, default_value="dagster"),
    },
    description="Dagster's console logger, but a failure of the data (a bad file, the "
    "quality gate) is one paragraph without a stack trace: a launched run writes to the "
    "daemon's log (the journal).",
)
def console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    """Dagster's colored console logger (its ``console``), a data failure without trace."""
    from dagster._utils.log import create_console_logger

    config = init_context.logger_config
    logger = create_console_logger(config["name"], config["log_level"].upper())
    for handler in logger.handlers:
        handler.addFilter(_NoTraceForData())
    return logger


# Dagster's own words when a run's process ended without finishing (the code server's)
CRASH = re.compile(r"Run execution process for \S+ (?P<cause>(was terminated|unexpectedly).*)")
# what Dagster says when something outside the run marked it failed, which says nothing
OUTSIDE = "This run has been marked as failed from outside the execution context."
ALERT_INTERVAL = 15  # seconds between looks for failed and recovered runs


def _crash_cause(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """Dagster's cause of a run whose process ended without finishing: the signal (with its
    word on memory) or the exit code, from the run's log."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        found = CRASH.search(entry.message or "")
        if found:
            # its two first sentences: what happened and the likely reason; not its advice on
            # executors, which does not apply to a run in one process
            sentences = found.group("cause").split(". ")
            cause = ". ".join(sentences[:2]).rstrip(".")
            return f"its process {cause}."
    return None


def run_failures(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str) -> list[Failure]:
    """What failed in ``run``: its steps' failures, else Dagster's cause of the run's end
    (a signal, out of memory), else the failure's own ``message``."""
    steps = _step_failures(instance, run)
    if steps:
        return steps
    editions = run_editions_label(run.tags)
    cause = _crash_cause(instance, run.run_id)
    if cause is not None:
        return [Failure(editions, "RunProcessEnded", cause, launched=True)]
    return [Failure(editions, "", message or "the run failed", launched=True)]


def origin_label(tags: Mapping[str, str]) -> str:
    """Who started a run, as the alert says it."""
    if tags.get(ORIGIN):
        return tags[ORIGIN]
    if tags.get("dagster/backfill"):
        return "a backfill from the UI"
    return "launched from the UI"


def _retries(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[dg.DagsterRun]:
    """The runs that retried ``run``: the instance's (run_retries) and retry_failed_editions's."""
    found = instance.get_runs(dg.RunsFilter(tags={RETRY_OF: run.run_id}))
    auto = run.tags.get("dagster/auto_retry_run_id")
    if auto:
        retried = instance.get_run_by_id(auto)
        found = [*found, retried] if retried is not None else found
    return list(found)


def _parent(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRun | None:
    """The failed run that ``run`` ran again (a retry, or a re-execution from the UI)."""
    parent_id = run.tags.get(RETRY_OF) or run.parent_run_id
    parent = instance.get_run_by_id(parent_id) if parent_id else None
    return parent if parent is not None and parent.status == dg.DagsterRunStatus.FAILURE else None


def failure_alert(
    instance: dg.DagsterInstance, run: dg.DagsterRun, message: str, ended: float
) -> Alert | None:
    """The alert of a failed launched run, or None when a retry of it already succeeded (its
    recovery says so, in one line)."""
    if any(r.status == dg.DagsterRunStatus.SUCCESS for r in _retries(instance, run)):
        return None
    failures = run_failures(instance, run, message)
    stand = stand_of(instance, run, failures, ended)
    retried = stand.by is not None
    return Alert(
        editions=run_editions_label(run.tags),
        # the advice once, with the failure, and only when nothing will try it again
        failures=[f.problem if retried else f"{f.problem}\n  {f.advice}" for f in failures],
        run_id=run.run_id,
        origin=origin_label(run.tags),
        stand=str(stand),
        next_step="The outcome of the retry follows in another alert." if retried else "",
    )


def recovery_alert(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Alert | None:
    """One line for a successful run that ran a failed one again; None for any other."""
    parent = _parent(instance, run)
    if parent is None:
        return None
    first = next(iter(run_failures(instance, parent, "")), None)
    if "dagster/retry_number" in run.tags:
        attempt = int(run.tags["dagster/retry_number"]) + 1
        how = f"attempt {attempt} of {_max_retries(instance, run) + 1} succeeded"
    elif ATTEMPT in run.tags:
        how = f"attempt {int(run.tags[ATTEMPT]) + 1} of {MAX_RETRIES + 1} succeeded"
    else:
        how = "run again, it succeeded"
    # the cause in its first sentence: the failure's alert said the rest
    cause = f": {excerpt(first.message).split('. ')[0].rstrip('.')}" if first else ""
    return Alert(
        editions=run_editions_label(run.tags),
        failures=[],
        run_id=run.run_id,
        origin=origin_label(run.tags),
        stand=f"{how}, after run {parent.run_id} failed{cause}",
        recovered=True,
    )


def _launched(run: dg.DagsterRun) -> bool:
    """A run the operator did not start in a shell: launched through the instance (the
    UI, a backfill, retries) or requested by the schedule or a sensor. A command-line run
    is its person's, who sees its failure."""
    if run.tags.get(ORIGIN) == "command line":
        return False
    return run.remote_job_origin is not None or run.tags.get(ORIGIN) in ("schedule", "sensor")


def failure_alert_sensor() -> dg.SensorDefinition:
    """The alert of every launched run that failed (``alerts.send``), saying where it
    stands, and one line when a retry (or a re-execution) of a failed run succeeds.
    Runs of the command line are left to the person who started them (they see the
    failure, and no alert is sent). Reads the run status changes after its cursor (their
    storage ids), in order, so a failure always comes before its recovery."""

    @dg.sensor(
        name="alert_on_failure",
        minimum_interval_seconds=ALERT_INTERVAL,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Every failed run launched from the UI, the schedule or a sensor: an "
        "alert naming the editions, where the run stands (attempt n of N, the next try, or "
        "final), the failure with Dagster's cause (a signal, out of memory) and what to do; "
        "when a retry succeeds, one 'recovered' line instead. To $DAGSTER_HOME/alerts.log "
        "(TAOBAO_ALERT_LOG), and to TAOBAO_ALERT_WEBHOOK and TAOBAO_ALERT_EMAIL_TO when set.",
    )
    def _alert(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        instance = context.instance
        kinds = (dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.RUN_SUCCESS)
        if context.cursor is None:  # from now on: not the history before the sensor ran
            latest = {}
            for kind in kinds:
                last = instance.fetch_run_status_changes(kind, limit=1).records
                latest[kind.value] = last[0].storage_id if last else -1
            context.update_cursor(json.dumps(latest))
            return dg.SkipReason("watching runs from now on")
        cursor = json.loads(context.cursor)
        records = []
        for kind in kinds:
            got = instance.fetch_run_status_changes(
                dg.RunStatusChangeRecordsFilter(kind, after_storage_id=cursor[kind.value]),
                limit=100,
                ascending=True,
            ).records
            records += got
            if got:
                cursor[kind.value] = got[-1].storage_id
        sent = []
        for record in sorted(records, key=lambda r: r.storage_id):
            run = instance.get_run_by_id(record.run_id)
            if run is None or not _launched(run):
                continue
            if record.event_log_entry.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS:
                alert = recovery_alert(instance, run)
            else:
                message = record.event_log_entry.message or ""
                alert = failure_alert(
                    instance, run, "" if message == OUTSIDE else message, record.timestamp
                )
            if alert is not None:
                reached = send(alert)
                sent.append(f"{run.run_id} ({', '.join(reached)})")
        context.update_cursor(json.dumps(cursor))
        return dg.SkipReason(f"alerts sent for runs {'; '.join(sent)}" if sent else "no alert")

    return _alert
