"""Running editions through Dagster from Python: the same assets the UI runs."""

import os
from pathlib import Path

import dagster as dg

from taobao_pipeline.assets.checks import QualityResource
from taobao_pipeline.definitions import all_assets, all_checks
from taobao_pipeline.resources import PathsResource, RulesResource

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


class RunFailed(Exception):
    """A run of the pipeline failed; the message is the failing step's error."""


def contiguous(editions: list[int]) -> list[tuple[int, int]]:
    """Sorted editions as runs of consecutive years: one Dagster run per range."""
    ranges: list[tuple[int, int]] = []
    for year in sorted(set(editions)):
        if ranges and ranges[-1][1] == year - 1:
            ranges[-1] = (ranges[-1][0], year)
        else:
            ranges.append((year, year))
    return ranges


def _failure(result: dg.ExecuteInProcessResult) -> str:
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None and "dagster" in error.cls_name.lower():
            error = error.cause
        text = error.message.strip() if error else "unknown error"
        messages.append(f"{event.step_key}: {text}")
    return "\n".join(messages) or "the run failed"


def run_editions(
    raw_dir: Path,
    warehouse: Path,
    editions: list[int],
    rules: RulesResource | None = None,
    quality: QualityResource | None = None,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
) -> list[dg.ExecuteInProcessResult]:
    """Materialize every asset for ``editions`` (single-run backfills of consecutive years).

    Runs are recorded in ``DAGSTER_HOME`` when it is set, so they show in the UI.
    Returns the result of each run (their events: materializations, check results).
    If a range's run fails, its editions run one by one: those that can be loaded are
    published, and ``RunFailed`` then names every failure.
    """
    if instance is None:
        instance = (
            dg.DagsterInstance.get()
            if os.environ.get("DAGSTER_HOME")
            else dg.DagsterInstance.ephemeral()
        )
    resources = {
        "paths": PathsResource(raw_dir=str(raw_dir), warehouse_path=str(warehouse)),
        "rules": rules or RulesResource(),
        "quality": quality or QualityResource(),
    }

    def run(first: int, last: int) -> dg.ExecuteInProcessResult:
        if first == last:
            selection = {"partition_key": str(first)}
        else:
            selection = {"tags": {RANGE_START: str(first), RANGE_END: str(last)}}
        return dg.materialize(
            [*all_assets, *all_checks],
            instance=instance,
            resources=resources,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            **selection,
        )

    results, failures = [], []
    for first, last in contiguous(editions):
        attempts = [run(first, last)]
        if not attempts[0].success and first < last:
            # a file that cannot be used fails its own edition's load, not the others':
            # each edition of the range again, in a run of its own
            attempts = [run(edition, edition) for edition in range(first, last + 1)]
        results += [r for r in attempts if r.success]
        failures += [_failure(r) for r in attempts if not r.success]
    if failures:
        raise RunFailed("\n".join(failures))
    return results
