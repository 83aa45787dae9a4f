"""Nothing recomputed twice: edition_provenance, and the plan that skips unchanged editions.

Never skip wrongly: a file rewritten with the same size and modification time, a rule
changed for one edition, and another code version each make their editions run again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from taobao_pipeline.computations import compute
from taobao_pipeline.definitions import defs
from taobao_pipeline.defs.resources import PathsResource, RulesResource
from taobao_pipeline.fingerprints import (
    PACKAGE_DIR,
    code_digest,
    note_name,
    plan,
)
from taobao_pipeline.ingest import ingest_source
from taobao_pipeline.rules import Rules
from taobao_pipeline.runner import JOB, run_config, run_editions
from taobao_pipeline.tables import COMPUTED_TABLES
from taobao_pipeline.warehouse import Warehouse
from taobao_pipeline_tests import command
from taobao_pipeline_tests.warehouse_queries import read_table

PROVENANCE = (
    "SELECT edition, file, sha256, bytes, rules, code_version, run_id FROM edition_provenance"
)


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAOBAO_")}
    return command.cli(*args, env=env | {"DAGSTER_HOME": str(home)})


@pytest.fixture
def published(raw: Path, tmp_path: Path) -> Path:
    """Editions 2019 and 2020 published into a fresh warehouse."""
    warehouse = tmp_path / "wh" / "taobao.duckdb"
    run_editions(raw, warehouse, [2019, 2020])
    return warehouse


def rewrite_same_size_and_time(path: Path, old: bytes, new: bytes) -> None:
    """Change ``old`` to ``new`` (same length) in a file, then restore its times."""
    assert len(old) == len(new)
    stat = path.stat()
    data = path.read_bytes()
    assert data.count(old) >= 1
    path.write_bytes(data.replace(old, new, 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def test_provenance_records_every_input_file(raw: Path, published: Path) -> None:
    rows = read_table(published, PROVENANCE + " ORDER BY edition, file")
    expected = sorted(
        (int(folder.name), p.name) for folder in raw.iterdir() for p in folder.iterdir()
    )
    assert [(e, f) for e, f, *_ in rows] == expected
    for edition, file, sha, size, rules, code, run_id in rows:
        content = (raw / str(edition) / file).read_bytes()
        assert sha == hashlib.sha256(content).hexdigest() and size == len(content)
        assert json.loads(rules)["cutoff_month"] == 6
        assert json.loads(rules)["min_revenue_rmb"] == "10000000.00"
        assert code == code_digest()
        assert run_id
    # republishing one edition replaces its record: never twice
    run_editions(raw, published, [2020])
    again = read_table(
        published,
        "SELECT edition, count(*), count(DISTINCT run_id) FROM "
        "edition_provenance GROUP BY edition ORDER BY edition",
    )
    assert again == [(2019, 3, 1), (2020, 3, 1)]
    run_ids = dict(read_table(published, "SELECT DISTINCT edition, run_id FROM edition_provenance"))
    assert run_ids[2019] != run_ids[2020]


def test_unchanged_editions_are_skipped(raw: Path, published: Path) -> None:
    todo = plan(raw, published, [2019, 2020], RulesResource().rules())
    assert todo.skipped == [2019, 2020] and todo.run == {}
    # an edition not yet published, and --force
    assert plan(raw, published, [2019, 2020], RulesResource().rules(), force=True).run == {
        2019: "--force",
        2020: "--force",
    }
    assert plan(raw, published.with_name("none.duckdb"), [2019], RulesResource().rules()).run == {
        2019: "new (no edition_provenance record)"
    }


def test_a_file_changed_with_the_same_size_and_time_reruns_its_edition(
    raw: Path, published: Path
) -> None:
    revenue = raw / "2020" / "revenue.csv"
    total = "SELECT all_revenue_rmb FROM national_summary WHERE edition = 2020"
    [(before,)] = read_table(published, total)
    # one month's sales of one shop, 1 yuan more: same length, same modification time
    rewrite_same_size_and_time(revenue, b",0.00,", b",1.00,")
    todo = plan(raw, published, [2019, 2020], RulesResource().rules())
    assert todo.skipped == [2019] and todo.run == {2020: "revenue.csv changed"}
    run_editions(raw, published, sorted(todo.run))
    [(after,)] = read_table(published, total)
    assert after - before == 1
    assert plan(raw, published, [2019, 2020], RulesResource().rules()).skipped == [2019, 2020]
    # a revenue part added, or one taken away
    part = raw / "2019" / "revenue-late.csv"
    part.write_text("shop_id,month,gmv_rmb,orders\n")
    assert plan(raw, published, [2019, 2020], Rules()).run == {2019: "revenue-late.csv changed"}
    part.unlink()
    sha = read_table(
        published,
        "SELECT sha256 FROM edition_provenance WHERE edition = 2020 AND file = 'revenue.csv'",
    )
    assert sha == [(hashlib.sha256(revenue.read_bytes()).hexdigest(),)]


def test_the_check_on_provenance_shows_which_editions_are_stale(raw: Path, published: Path) -> None:
    """``edition_provenance: inputs_unchanged``, executed on its own as from the UI: it
    passes for an edition as published, and warns, naming the file, once a file changed."""
    key = dg.AssetCheckKey(dg.AssetKey("edition_provenance"), "inputs_unchanged")
    job = defs.resolve_job_def(JOB).get_subset(asset_selection=set(), asset_check_selection={key})

    def check(edition: int) -> dg.AssetCheckEvaluation:
        result = job.execute_in_process(
            run_config=run_config(raw, published),
            partition_key=str(edition),
            instance=dg.DagsterInstance.ephemeral(),
        )
        assert [e.step_key for e in result.all_events if e.is_step_start] == ["inputs_unchanged"]
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    assert check(2020).passed
    rewrite_same_size_and_time(raw / "2020" / "revenue.csv", b",0.00,", b",1.00,")
    stale = check(2020)
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
    assert stale.partition == "2020" and stale.description == "Stale: revenue.csv changed"
    assert check(2019).passed


def test_a_changed_rule_reruns_the_editions_it_applies_to(raw: Path, published: Path) -> None:
    # an override for 2020 changes the rules in force for 2020 only
    override = RulesResource(edition_overrides={"2020": {"min_active_shops": "50"}})
    todo = plan(raw, published, [2019, 2020], override.rules())
    assert todo.skipped == [2019] and todo.run == {2020: "rules changed"}
    run_editions(raw, published, [2020], rules=override)
    assert plan(raw, published, [2019, 2020], override.rules()).skipped == [2019, 2020]
    # back to the defaults: 2020 was published under the override, so it runs again
    assert plan(raw, published, [2019, 2020], RulesResource().rules()).run == {
        2020: "rules changed"
    }
    # a default that every edition uses
    lower = RulesResource(min_revenue_rmb="5000000.00")
    assert sorted(plan(raw, published, [2019, 2020], lower.rules()).run) == [2019, 2020]


def test_another_code_version_reruns(raw: Path, published: Path, tmp_path: Path) -> None:
    # any edit of a source or SQL file is a new code version
    copy = tmp_path / "copy"
    shutil.copytree(PACKAGE_DIR, copy / "a", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(copy / "a", copy / "b")
    assert code_digest(copy / "a") == code_digest()  # of the content, wherever it is
    with open(copy / "b" / "generator" / "core.py", "a") as f:
        f.write("# an edit of the generator, a separate part\n")
    assert code_digest(copy / "b") == code_digest(copy / "a")
    shutil.copytree(copy / "a", copy / "c")
    with open(copy / "c" / "sql" / "village_metrics.sql", "a") as f:
        f.write("-- an edit\n")
    assert code_digest(copy / "c") != code_digest(copy / "a")
    # an edition published by another code version runs again
    conn = duckdb.connect(str(published))
    conn.execute("UPDATE edition_provenance SET code_version = '0.0.9+0' WHERE edition = 2019")
    conn.close()
    todo = plan(raw, published, [2019, 2020], RulesResource().rules())
    assert todo.skipped == [2020] and todo.run == {2019: "code changed"}


def test_second_run_skips_everything_and_publishes_nothing(raw: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    warehouse = tmp_path / "wh" / "taobao.duckdb"
    args = ["run", "--raw-dir", str(raw), "--warehouse", str(warehouse)]
    first = cli(*args, home=home)
    assert first.returncode == 0, first.stderr
    assert "Skipped" not in first.stdout
    stat = warehouse.stat()
    second = cli(*args, home=home)
    assert second.returncode == 0, second.stderr
    assert "Skipped (unchanged since published: input files, rules and code): 2019-2020" in (
        second.stdout
    )
    assert "National summary" in second.stdout and "2020" in second.stdout
    # nothing published: the very same file; no Dagster run
    after = warehouse.stat()
    assert (after.st_ino, after.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_runs()) == 1
    # one changed file reruns its edition only; --force reruns both
    rewrite_same_size_and_time(raw / "2019" / "villages.csv", b",10000\n", b",10001\n")
    third = cli(*args, home=home)
    assert third.returncode == 0, third.stderr
    assert "Skipped (unchanged since published: input files, rules and code): 2020" in third.stdout
    assert "Running 2019: villages.csv changed" in third.stdout
    forced = cli(*args, "--force", home=home)
    assert forced.returncode == 0 and "Skipped" not in forced.stdout
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert len(instance.get_runs()) == 3  # 2019, then 2019-2020 as one backfill


def test_sensor_and_schedule_leave_published_editions_alone(
    raw: Path, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAOBAO_SETTLE_SECONDS", "0")  # the settle time: test_automation
    resources = {
        "paths": PathsResource(raw_dir=str(raw), warehouse_path=str(published)),
        "rules": RulesResource(),
    }
    sensor = defs.resolve_sensor_def("new_extracts")
    with dg.build_sensor_context(resources=resources) as context:
        first = sensor(context)
    assert first.run_requests == []  # both folders are new to the sensor, but published
    # touched, not changed: still nothing to do; changed: its edition runs
    villages = raw / "2020" / "villages.csv"
    stat = villages.stat()
    os.utime(villages, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with dg.build_sensor_context(cursor=first.cursor, resources=resources) as context:
        touched = sensor(context)
    assert touched.run_requests == [] and touched.cursor != first.cursor
    rewrite_same_size_and_time(villages, b",10000\n", b",10001\n")
    with dg.build_sensor_context(cursor=first.cursor, resources=resources) as context:
        assert [r.partition_key for r in sensor(context).run_requests] == ["2020"]
    # the annual schedule (2020's window closed in June) now runs 2020, but not 2019
    schedule = defs.resolve_schedule_def("annual_designation")

    def tick(year: int) -> dg.RunRequest | dg.SkipReason:
        when = dt.datetime(year, 7, 15, 6, tzinfo=dt.UTC)
        with dg.build_schedule_context(
            scheduled_execution_time=when, resources=resources
        ) as context:
            return schedule(context)

    assert tick(2020).partition_key == "2020"
    skip = tick(2019)
    assert isinstance(skip, dg.SkipReason)
    assert "2019 is unchanged since it was published" in (skip.skip_message or "")


def test_an_ingest_under_other_rules_leaves_the_edition_unrecorded(
    raw: Path, published: Path
) -> None:
    # 2020's sales staged again under another cut-off month (the ingest materialized apart
    # in the UI), then published under the defaults: the record gets no digests
    wh = Warehouse(published)
    other = RulesResource(edition_overrides={"2020": {"cutoff_month": "5"}}).rules()
    with wh.staging(2020) as stg:
        ingest_source(stg, raw, 2020, "revenue", other)
        assert stg.note(note_name("revenue"))["rules"] != stg.note(note_name("shops"))["rules"]
    frame = wh.staged_provenance([2020], Rules(), "run")
    assert frame.height == 3 and frame["sha256"].null_count() == 3
    # under the publish's rules, every file has its digest
    with wh.staging(2020) as stg:
        ingest_source(stg, raw, 2020, "revenue", Rules())
    frame = wh.staged_provenance([2020], Rules(), "run")
    assert frame["sha256"].str.len_chars().to_list() == [64, 64, 64]
    # a source staged before its files were noted
    (wh.staging_path(2020) / f"{note_name('shops')}.note.json").unlink()
    frame = wh.staged_provenance([2020], Rules(), "run")
    assert "(shops: not recorded)" in frame["file"].to_list()
    assert frame["sha256"].null_count() == frame.height
    with wh.staging(2020) as stg:  # restaging the sales cleared the designations
        for table in COMPUTED_TABLES:
            compute(stg, table, 2020, Rules())
    wh.publish([2020], frame)
    todo = plan(raw, published, [2019, 2020], Rules())
    assert todo.skipped == [2019] and todo.run == {2020: "its record is incomplete"}
