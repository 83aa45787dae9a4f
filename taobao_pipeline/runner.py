"""Running editions through Dagster from Python: the same assets the UI runs."""

import os
from pathlib import Path

import dagster as dg

from taobao_pipeline.assets.checks import QualityResource
from taobao_pipeline.definitions import all_assets, all_checks
from taobao_pipeline.resources import RulesResource, WarehouseResource

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
    """
    if instance is None:
        instance = (
            dg.DagsterInstance.get()
            if os.environ.get("DAGSTER_HOME")
            else dg.DagsterInstance.ephemeral()
        )
    resources = {
        "warehouse": WarehouseResource(raw_dir=str(raw_dir), warehouse_path=str(warehouse)),
        "rules": rules or RulesResource(),
        "quality": quality or QualityResource(),
    }
    results = []
    for first, last in contiguous(editions):
        if first == last:
            selection = {"partition_key": str(first)}
        else:
            selection = {"tags": {RANGE_START: str(first), RANGE_END: str(last)}}
        result = dg.materialize(
            [*all_assets, *all_checks],
            instance=instance,
            resources=resources,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            **selection,
        )
        if not result.success:
            raise RunFailed(_failure(result))
        results.append(result)
    return results
