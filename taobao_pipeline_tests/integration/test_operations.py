"""Running it the Dagster way: schedule, sensor, asset checks, single-run backfills."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from taobao_pipeline.definitions import all_assets, all_checks, defs
from taobao_pipeline.defs.automation import edition_closed, folder_fingerprint
from taobao_pipeline.defs.resources import PathsResource, QualityResource, RulesResource
from taobao_pipeline.fingerprints import plan
from taobao_pipeline.rules import Rules
from taobao_pipeline.runner import run_editions
from taobao_pipeline.summary import run_history, run_summary
from taobao_pipeline.tables import EDITION_TABLES
from taobao_pipeline.warehouse import Warehouse
from taobao_pipeline_tests.command import cli
from taobao_pipeline_tests.raw_files import write_edition
from taobao_pipeline_tests.scenarios import Edition, boundary_edition
from taobao_pipeline_tests.warehouse_queries import read_table

PROJECT = Path(__file__).resolve().parents[2]


def evaluations(results: list[dg.ExecuteInProcessResult]) -> dict[str, list]:
    out: dict[str, list] = {}
    for result in results:
        for ev in result.get_asset_check_evaluations():
            out.setdefault(f"{ev.asset_key.to_user_string()}:{ev.check_name}", []).append(ev)
    return out


def test_schedule_asks_for_the_edition_whose_window_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule = defs.resolve_schedule_def("annual_designation")
    assert schedule.cron_schedule == "0 6 15 * *"
    paths = PathsResource(raw_dir=str(tmp_path / "raw"), warehouse_path=str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("TAOBAO_SETTLE_SECONDS", "0")
    e = boundary_edition(2020)
    for year in (2021, 2026):  # their folders are there, complete
        write_edition(tmp_path / "raw", year, e.villages, e.shops, e.revenue)

    def tick(day: dt.date, rules: RulesResource) -> dg.RunRequest | dg.SkipReason:
        when = dt.datetime(day.year, day.month, day.day, 6, tzinfo=dt.UTC)
        context = dg.build_schedule_context(
            scheduled_execution_time=when, resources={"rules": rules, "paths": paths}
        )
        return schedule(context)

    request = tick(dt.date(2021, 7, 15), RulesResource())
    assert request.partition_key == "2021" and request.run_key == "annual-2021"
    assert isinstance(tick(dt.date(2021, 8, 15), RulesResource()), dg.SkipReason)
    # a cut-off month of its own for 2026: its run waits for its window to close
    september = RulesResource(edition_overrides={"2026": {"cutoff_month": "9"}})
    assert isinstance(tick(dt.date(2026, 7, 15), september), dg.SkipReason)
    assert tick(dt.date(2026, 10, 15), september).partition_key == "2026"
    december = Rules(cutoff_month=12)
    assert edition_closed(dt.date(2021, 1, 15), december) == 2020
    assert edition_closed(dt.date(2021, 2, 15), december) is None


def test_sensor_asks_once_per_change(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAOBAO_SETTLE_SECONDS", "0")  # its own test below
    sensor = defs.resolve_sensor_def("new_extracts")
    paths = PathsResource(raw_dir=str(raw), warehouse_path=str(tmp_path / "w.duckdb"))
    resources = {"paths": paths, "rules": RulesResource()}

    def tick(cursor: str | None) -> dg.SensorResult:
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            return sensor(context)

    first = tick(None)
    assert sorted(r.partition_key for r in first.run_requests) == ["2019", "2020"]
    assert tick(first.cursor).run_requests == []  # unchanged: never again
    touched = raw / "2020" / "shops.csv"
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = tick(first.cursor)
    assert [r.partition_key for r in changed.run_requests] == ["2020"]
    assert changed.run_requests[0].run_key == f"2020-{folder_fingerprint(raw / '2020')}"
    assert tick(changed.cursor).run_requests == []
    (raw / "2021").mkdir()
    (raw / "2021" / "villages.csv").write_text("village_code\n")
    assert [r.partition_key for r in tick(changed.cursor).run_requests] == ["2021"]
    # a folder that is no edition is left out (a request for it would fail the tick)
    (raw / "2008").mkdir()
    assert [r.partition_key for r in tick(changed.cursor).run_requests] == ["2021"]


def test_every_check_passes_on_good_data(raw: Path, tmp_path: Path) -> None:
    results = run_editions(raw, tmp_path / "w.duckdb", [2019, 2020])
    checks = evaluations(results)
    assert len(checks) == len(defs.resolve_asset_graph().asset_check_keys)
    failed = {name for name, evs in checks.items() if not all(e.passed for e in evs)}
    # the boundary scenarios are not the national record: that check warns, as it should
    assert failed == {"national_summary:matches_published_record"}
    # one result per check and edition, each carrying its edition
    records = checks["national_summary:matches_published_record"]
    assert sorted(r.partition for r in records) == ["2019", "2020"]
    assert all(r.severity == dg.AssetCheckSeverity.WARN for r in records)
    assert all(len(evs) == 2 for evs in checks.values()), {k: len(v) for k, v in checks.items()}


def _three_villages(tmp_path: Path, villages: int) -> Path:
    e = Edition(2009)
    for i in range(villages):
        e.add_village(f"33078210120{i}", 100)
    write_edition(tmp_path / "raw", 2009, e.villages, e.shops, e.revenue)
    return tmp_path / "raw"


@pytest.mark.parametrize("villages", [3, 2])
def test_published_record_check_and_reconciliation(tmp_path: Path, villages: int) -> None:
    warehouse = tmp_path / "w.duckdb"
    results = run_editions(_three_villages(tmp_path, villages), warehouse, [2009])
    [check] = evaluations(results)["national_summary:matches_published_record"]
    assert check.passed == (villages == 3), check.metadata  # 2009: 3 is the published figure
    assert check.severity == dg.AssetCheckSeverity.WARN
    rows = read_table(
        warehouse,
        "SELECT published, computed, difference, within_tolerance "
        "FROM reconciliation WHERE edition = 2009 AND measure = 'taobao_villages'",
    )
    assert rows == [(3, villages, villages - 3, villages == 3)]


def test_rejected_share_warns_and_publishes_below_the_error_share(rejected_run: Path) -> None:
    raw = rejected_run.parent / "raw"
    results = run_editions(
        raw,
        rejected_run.parent / "again.duckdb",
        [2020],
        quality=QualityResource(reject_warn_share="0.01", reject_error_share="0.99"),
    )
    share = evaluations(results)["villages:rejected_share"][0]
    assert not share.passed and share.severity == dg.AssetCheckSeverity.WARN
    assert read_table(
        rejected_run.parent / "again.duckdb", "SELECT count(*) FROM village_metrics"
    ) == [(2,)]


def test_single_run_backfill_equals_edition_by_edition(raw: Path, tmp_path: Path) -> None:
    together, apart = tmp_path / "together.duckdb", tmp_path / "apart.duckdb"
    [result] = run_editions(raw, together, [2019, 2020])
    assert result.dagster_run.tags["dagster/asset_partition_range_start"] == "2019"
    run_editions(raw, apart, [2020])
    run_editions(raw, apart, [2019])
    for table in EDITION_TABLES:
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert read_table(together, sql) == read_table(apart, sql), table


def test_computing_under_a_new_cut_off_asks_for_the_revenue_again(
    raw: Path, tmp_path: Path
) -> None:
    """The staged sales were judged and summed for one window: computing an edition
    under another cut-off month fails, and the published tables stay as they were."""
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(raw, warehouse, [2020])
    before = read_table(warehouse, "SELECT * FROM village_metrics ORDER BY ALL")
    may = RulesResource(edition_overrides={"2020": {"cutoff_month": "5"}})
    result = dg.materialize(
        [*all_assets, *all_checks],
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "paths": PathsResource(raw_dir=str(raw), warehouse_path=str(warehouse)),
            "rules": may,
            "quality": QualityResource(),
        },
        partition_key="2020",
        selection=dg.AssetSelection.groups("designations"),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "staged for the months 2019-07..2020-06" in str(failure.step_failure_data.error)
    assert read_table(warehouse, "SELECT * FROM village_metrics ORDER BY ALL") == before
    # the whole edition again: fine (a third of the sales, June's, now fall outside the
    # window and are rejected, which the quality gate stops unless told why)
    anyway = QualityResource(publish_anyway="the window moved to May on purpose")
    run_editions(raw, warehouse, [2020], rules=may, quality=anyway)


def test_a_withdrawal_stays_on_record_after_the_edition_is_published_again(
    raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    run_editions(raw, warehouse, [2019, 2020])
    record = "SELECT file, note FROM edition_provenance WHERE edition = 2020 ORDER BY published_at"
    Warehouse(warehouse).withdraw(2020, "wrong register")
    assert plan(raw, warehouse, [2019, 2020], Rules()).run == {2020: "withdrawn"}
    run_editions(raw, warehouse, [2020])  # published again
    rows = read_table(warehouse, record)
    assert rows[0] == ("(withdrawn)", "withdrawn; reason: wrong register")
    assert len(rows) > 1 and all(file != "(withdrawn)" for file, _ in rows[1:])
    # the withdrawal on record does not make the edition run again: it is unchanged
    assert plan(raw, warehouse, [2019, 2020], Rules()).skipped == [2019, 2020]
    Warehouse(warehouse).withdraw(2020, "the register again")
    notes = [note for file, note in read_table(warehouse, record) if file == "(withdrawn)"]
    assert notes == ["withdrawn; reason: wrong register", "withdrawn; reason: the register again"]


def test_the_summary_says_publish_anyway_and_where_the_history_is(
    rejected_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "rows broken on purpose"
    warehouse = tmp_path / "w.duckdb"
    done = cli(
        "run", "--raw-dir", str(rejected_run.parent / "raw"), "--warehouse", str(warehouse),
        "--publish-anyway", reason,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # said within 100 columns: a long reason folds onto an indented line
    said = " ".join(line.strip() for line in done.stdout.splitlines())
    assert (
        f'--publish-anyway "{reason}": edition 2020 published over a failed quality gate; '
        "the reason and the checks it overrode are in edition_provenance.note."
    ) in said
    # the history of the instance in PostgreSQL is named there, not as the home folder
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(PROJECT / "deploy" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_PG_HOST", "db.example.org")
    monkeypatch.setenv("DAGSTER_PG_PORT", "5433")
    monkeypatch.setenv("DAGSTER_PG_DB", "dagster")
    history, postgres = run_history(str(home))
    assert postgres and history.startswith("PostgreSQL, database dagster on db.example.org:5433")
    summary = run_summary(warehouse, [2020], [2020], 5.0, 1, str(home))
    assert "Run history: PostgreSQL, database dagster on db.example.org:5433" in summary
    assert "./ui.sh" not in summary  # it would open the project's own history
    assert "the UI of that instance" in summary
    elsewhere = run_summary(warehouse, [2020], [2020], 5.0, 1, str(tmp_path / "elsewhere"))
    assert "./ui.sh" not in elsewhere and "dg dev" in elsewhere
    monkeypatch.chdir(PROJECT)  # ./run.sh's own history: ./ui.sh opens it
    ours = run_summary(warehouse, [2020], [2020], 5.0, 1, str(PROJECT / ".dagster_home"))
    assert "Run history: .dagster_home" in ours and "  ./ui.sh: the Dagster UI" in ours
