"""Running editions through Dagster from Python: the definitions' own ``designation_job``.

The job runs in this process with the resources of ``definitions.py``; the paths (and any
rules or quality thresholds that differ) go in as the run's config, so the UI shows a
command-line run under ``designation_job`` with the config it ran with.

Part of the command line, above the code location it imports (``definitions``): hence
beside ``cli.py``, not in the ``defs/`` wing that the code location gathers.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from taobao_pipeline.definitions import defs
from taobao_pipeline.defs.partitions import outside_partitions, partition_range
from taobao_pipeline.defs.resources import QualityResource, RulesResource
from taobao_pipeline.editions import contiguous, editions_label
from taobao_pipeline.errors import RANGE_END, RANGE_START, Failure, failures_of, run_editions_label
from taobao_pipeline.interrupts import Interrupted, raise_if_signalled
from taobao_pipeline.warehouse import Warehouse

JOB = "designation_job"
PATHS_RESOURCE = "paths"  # the definitions' resource that holds raw_dir, warehouse_path
NO_RETRIES = "dagster/max_retries"
ORIGIN, EDITIONS = "taobao/origin", "taobao/editions"  # as the schedule and sensors tag theirs
# what a signal becomes inside a run: Dagster's error, ours, or Python's
INTERRUPTIONS = {"DagsterExecutionInterruptedError", "Interrupted", "KeyboardInterrupt"}

# told the editions of a run (first, last) and each event of it as Dagster stores it
Listener = Callable[[tuple[int, int], dg.EventLogEntry], None]


class RunFailed(Exception):
    """A run of the pipeline failed; ``failures`` says where and why, one per failure."""

    def __init__(self, failures: list[Failure], published: list[str] | None = None) -> None:
        lines = [str(f) for f in failures]
        if published:  # the exit code says "not everything": say what was
            lines.append(f"Published nonetheless: {', '.join(published)}.")
        super().__init__("\n".join(lines))
        self.failures = failures
        self.published = published or []


def _editions(result: dg.ExecuteInProcessResult) -> str:
    return run_editions_label(result.dagster_run.tags)


def _failure(result: dg.ExecuteInProcessResult) -> list[Failure]:
    return failures_of(result.get_step_failure_events(), result.dagster_run.tags)


def _interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Whether a step of the run was stopped by Ctrl-C or SIGTERM (Dagster's handler turns
    either into a step failure), rather than failed by its data."""
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            if error.cls_name in INTERRUPTIONS:
                return True
            error = error.cause
    return False


def _outside(raw_dir: Path, editions: list[int]) -> list[Failure]:
    """A failure for each edition that is not a partition (say, a folder data/raw/2008)."""
    first, last = partition_range()
    failures = []
    for e in outside_partitions(editions):
        folder = raw_dir / str(e)
        where = f"the folder {folder}" if folder.is_dir() else f"edition {e}"
        sentence = f"{where} is outside the editions, which run from {first} to {last}"
        failures.append(Failure("", "OutsideEditions", sentence))
    return failures


def _config_of(resource: dg.ConfigurableResource) -> dict[str, object]:
    """The fields of a resource given explicitly: run config over the definitions' values."""
    return {name: getattr(resource, name) for name in resource.model_fields_set}


def run_config(
    raw_dir: Path,
    warehouse: Path,
    rules: RulesResource | None = None,
    quality: QualityResource | None = None,
    log_level: str = "WARNING",
) -> dict[str, object]:
    """The run config that points the definitions' resources at these paths (and rules)."""
    resources: dict[str, object] = {
        # absolute: a re-execution from the UI, started elsewhere, reads the same files
        PATHS_RESOURCE: {
            "config": {
                "raw_dir": str(Path(raw_dir).absolute()),
                "warehouse_path": str(Path(warehouse).absolute()),
            }
        }
    }
    for name, resource in (("rules", rules), ("quality", quality)):
        if resource is not None:
            resources[name] = {"config": _config_of(resource)}
    return {
        "resources": resources,
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }


def run_editions(
    raw_dir: Path,
    warehouse: Path,
    editions: list[int],
    rules: RulesResource | None = None,
    quality: QualityResource | None = None,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    listener: Listener | None = None,
) -> list[dg.ExecuteInProcessResult]:
    """Run ``designation_job`` for ``editions`` (single-run backfills of consecutive years).

    Runs are recorded in ``DAGSTER_HOME`` when it is set (or in ``instance``), so they
    show in the UI; otherwise in a throwaway instance. Returns the result of each run
    (their events: materializations, check results). If a range's run fails, its
    editions run one by one: those that can be loaded are published, and ``RunFailed``
    then names every failure; a run stopped by Ctrl-C or SIGTERM raises ``Interrupted``
    at once (the CLI says which signal). ``listener`` is told every event of every run, with the
    run's editions.
    """
    if instance is None:
        instance = (
            dg.DagsterInstance.get()
            if os.environ.get("DAGSTER_HOME")
            else dg.DagsterInstance.ephemeral()
        )
    job = defs.resolve_job_def(JOB)
    config = run_config(raw_dir, warehouse, rules, quality, log_level)

    def run(first: int, last: int) -> dg.ExecuteInProcessResult:
        run_id = str(uuid.uuid4())
        if listener is not None:
            instance.add_event_listener(run_id, functools.partial(listener, (first, last)))
        # the instance's run retries (dagster.yaml) cannot relaunch a run of this process:
        # the person who started it sees its failure and runs it again
        # the run list shows where a run came from and its editions
        tags = {NO_RETRIES: "0", ORIGIN: "command line", EDITIONS: editions_label(first, last)}
        if first == last:
            selection: dict[str, object] = {"partition_key": str(first), "tags": tags}
        else:
            selection = {"tags": tags | {RANGE_START: str(first), RANGE_END: str(last)}}
        result = job.execute_in_process(
            run_config=config, instance=instance, raise_on_error=False, run_id=run_id, **selection
        )
        if _interrupted(result):  # stopped, not failed by a file: nothing is tried again
            raise Interrupted()
        raise_if_signalled()
        return result

    # an edition outside the partitions fails alone, named, and the others run
    failures: list[Failure] = _outside(raw_dir, editions)
    editions = [e for e in editions if e not in outside_partitions(editions)]
    results = []
    # the run's editions are its own until it ends (another run of one waits its turn)
    with Warehouse(warehouse).hold(editions):
        for first, last in contiguous(editions):
            attempts = [run(first, last)]
            if not attempts[0].success and first < last:
                # a file that cannot be used fails its own edition's load, not the others':
                # each edition of the range again, in a run of its own
                attempts = [run(edition, edition) for edition in range(first, last + 1)]
            results += [r for r in attempts if r.success]
            failures += [f for r in attempts if not r.success for f in _failure(r)]
    if failures:
        raise RunFailed(failures, [_editions(r) for r in results])
    return results
