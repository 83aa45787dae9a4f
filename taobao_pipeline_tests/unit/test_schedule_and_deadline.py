"""The schedule, the retry sensor and the deadline check, evaluated without a run (moved
from integration/): what the schedule asks for or why it skips, the retry delay it states,
an edition missing after its deadline, and the executor launched runs use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from taobao_pipeline.definitions import defs
from taobao_pipeline.defs import freshness
from taobao_pipeline.defs.automation import ORIGIN, retry_sensor
from taobao_pipeline.defs.resources import PathsResource, RulesResource
from taobao_pipeline.rules import Rules
from taobao_pipeline.runner import JOB
from taobao_pipeline_tests.raw_files import write_edition
from taobao_pipeline_tests.scenarios import boundary_edition


def schedule_tick(paths: PathsResource) -> dg.RunRequest | dg.SkipReason:
    """The schedule's tick of 15 July 2021: edition 2021's window closed in June."""
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2021, 7, 15, 6, tzinfo=dt.UTC),
        resources={"rules": RulesResource(), "paths": paths},
    )
    return defs.resolve_schedule_def("annual_designation")(context)


def test_the_schedule_skips_an_edition_missing_incomplete_or_still_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    paths = PathsResource(raw_dir=str(raw), warehouse_path=str(tmp_path / "w.duckdb"))
    missing = schedule_tick(paths)
    assert isinstance(missing, dg.SkipReason)
    assert "edition 2021 cannot run" in missing.skip_message
    assert "does not exist" in missing.skip_message

    e = boundary_edition(2020)
    write_edition(raw, 2021, e.villages, e.shops, e.revenue)
    for part in (raw / "2021").glob("revenue*"):
        part.rename(tmp_path / part.name)  # the sales are not there yet
    incomplete = schedule_tick(paths)
    assert isinstance(incomplete, dg.SkipReason) and "incomplete" in incomplete.skip_message
    assert "revenue" in incomplete.skip_message

    for part in tmp_path.glob("revenue*"):
        part.rename(raw / "2021" / part.name)
    copying = schedule_tick(paths)  # just written: the default settle time is 300 s
    assert isinstance(copying, dg.SkipReason) and "waiting" in copying.skip_message

    monkeypatch.setenv("TAOBAO_SETTLE_SECONDS", "0")
    request = schedule_tick(paths)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2021" and request.tags[ORIGIN] == "schedule"


def test_the_retry_sensor_states_its_real_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its description is written when the definitions load, with the daemon's setting."""
    monkeypatch.setenv("TAOBAO_RETRY_DELAY_SECONDS", "90")
    sensor = retry_sensor(defs.resolve_job_def(JOB))
    assert "90 s after it failed, then 3 min after the retry failed" in sensor.description
    monkeypatch.setenv("TAOBAO_RETRY_DELAY_SECONDS", "600")
    sensor = retry_sensor(defs.resolve_job_def(JOB))
    assert "10 min after it failed, then 20 min" in sensor.description


def test_the_schedule_names_the_edition_it_waits_for(tmp_path: Path) -> None:
    paths = PathsResource(raw_dir=str(tmp_path / "raw"), warehouse_path=str(tmp_path / "w.duckdb"))
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 2, 15, 6, tzinfo=dt.UTC),
        resources={"rules": RulesResource(), "paths": paths},
    )
    skip = defs.resolve_schedule_def("annual_designation")(context)
    assert isinstance(skip, dg.SkipReason)
    assert skip.skip_message == (
        "no edition's cut-off month ended in January 2026: the next edition, 2026, is due "
        "after its cut-off month (June) ends: 15 July 2026"
    )
    description = defs.resolve_schedule_def("annual_designation").description
    assert "the next edition, " in description and "is due after its cut-off month" in description


def test_a_missing_edition_fails_its_deadline_check_once_due() -> None:
    """In December the year's edition is due (1 September): missing, its check fails
    saying so; published, or before the deadline, it passes."""
    rules = Rules()
    december, july = dt.date(2026, 12, 7), dt.date(2026, 7, 20)
    assert freshness.latest_due(december) == 2026 and freshness.latest_due(july) == 2025
    missing = freshness.on_time(2026, {2024, 2025}, december, rules)
    assert not missing.passed and missing.severity == dg.AssetCheckSeverity.WARN
    assert missing.summary == (
        "Edition 2026 is missing: its cut-off month (June 2026) and its deadline "
        "(1 September 2026) have passed and it is not published"
    )
    assert freshness.on_time(2026, {2026}, december, rules).passed
    assert freshness.on_time(2026, set(), july, rules).passed
    graph = defs.resolve_asset_graph()
    assert dg.AssetCheckKey(dg.AssetKey("national_summary"), "edition_on_time") in set(
        graph.asset_check_keys
    )
    assert defs.resolve_sensor_def("edition_deadline") is not None


def test_launched_runs_execute_in_process() -> None:
    """The UI, the schedule and the sensor launch designation_job with its own executor:
    in process, as the command line runs it (no process per step)."""
    assert defs.resolve_job_def(JOB).executor_def.name == dg.in_process_executor.name
