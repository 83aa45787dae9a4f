"""The ``taobao-pipeline`` command as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from taobao_pipeline_tests.command import COMMAND, cli
from taobao_pipeline_tests.raw_files import write_edition
from taobao_pipeline_tests.scenarios import TAOBAO_VILLAGES, boundary_edition
from taobao_pipeline_tests.warehouse_queries import read_table


@pytest.fixture(autouse=True)
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Command-line runs record into a temporary instance, never the project's."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))


def test_run_prints_national_summary_and_query_reads(tmp_path: Path) -> None:
    for year in (2019, 2020):
        e = boundary_edition(year)
        write_edition(tmp_path / "raw", year, e.villages, e.shops, e.revenue)
    warehouse = str(tmp_path / "wh.duckdb")
    run = cli(
        "run", "--raw-dir", str(tmp_path / "raw"), "--warehouse", warehouse, "--editions", "2020"
    )
    assert run.returncode == 0, run.stderr
    assert "Ran edition 2020 in" in run.stdout
    assert f"Latest edition, 2020: {len(TAOBAO_VILLAGES)} Taobao villages" in run.stdout
    assert "2019" not in run.stdout
    query = cli("query", "SELECT count(*) AS n FROM taobao_villages", "--warehouse", warehouse)
    assert query.returncode == 0, query.stderr
    assert str(len(TAOBAO_VILLAGES)) in query.stdout
    # the warehouse is read-only to queries
    write = cli("query", "DELETE FROM taobao_villages", "--warehouse", warehouse)
    assert write.returncode == 1 and "read-only" in write.stderr.lower()


def test_run_fails_with_the_file_and_problem(tmp_path: Path) -> None:
    e = boundary_edition(2020)
    folder = write_edition(tmp_path / "raw", 2020, e.villages, e.shops, e.revenue)
    (folder / "shops.csv").unlink()
    run = cli("run", "--raw-dir", str(tmp_path / "raw"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert run.returncode == 1
    assert "shops.{parquet,csv,csv.gz}: file is missing" in run.stderr
    assert "STEP_FAILURE" not in run.stderr  # Dagster's log only when asked for:
    args = ("--raw-dir", str(tmp_path / "raw"), "--warehouse", str(tmp_path / "w.duckdb"))
    verbose = cli("run", "--verbose", *args)
    assert verbose.returncode == 1 and "STEP_FAILURE" in verbose.stderr


def test_run_that_fails_says_which_step_of_which_editions(tmp_path: Path) -> None:
    for year in (2019, 2020):
        e = boundary_edition(year)
        folder = write_edition(tmp_path / "raw", year, e.villages, e.shops, e.revenue)
    (folder / "shops.csv").unlink()  # 2020's
    run = cli("run", "--raw-dir", str(tmp_path / "raw"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert run.returncode == 1
    lines = run.stdout.splitlines()  # the progress; stderr holds the error's paragraph
    assert "editions 2019-2020: the run failed; each edition again, in a run of its own" in (
        run.stdout
    )
    step = r" +\d+:\d\d  step +"
    assert any(re.match(rf"{step}ingest_extracts +2019-2020 +FAILED in", x) for x in lines)
    assert any(re.match(rf"{step}designate_and_publish +2019 +done in", x) for x in lines)
    assert any(re.match(rf"{step}ingest_extracts +2020 +FAILED in", x) for x in lines)


def test_run_without_editions_says_so(tmp_path: Path) -> None:
    run = cli("run", "--raw-dir", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb"))
    assert run.returncode == 2 and "no edition folders" in run.stderr


HOSTILE = (
    # the reported attack: attach a scratch database, drop the warehouse, attach it writable
    "ATTACH '{scratch}' AS s (READ_WRITE); USE s; DETACH taobao; "
    "ATTACH '{warehouse}' AS rw (READ_WRITE); DELETE FROM rw.taobao_villages",
    "DELETE FROM taobao_villages",
    "COPY (SELECT * FROM taobao_villages) TO '{scratch}.csv'",
    "SELECT * FROM read_text('/etc/passwd')",
    "INSTALL httpfs",
    "SET enable_external_access = true",
    "SELECT * FROM 'https://example.org/x.csv'",
)


def test_query_refuses_anything_but_reading_the_warehouse(
    boundary_run: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "taobao.duckdb"
    shutil.copyfile(boundary_run, warehouse)
    scratch = tmp_path / "scratch.duckdb"
    for sql in HOSTILE:
        sql = sql.format(scratch=scratch, warehouse=warehouse)
        done = cli("query", sql, "--warehouse", str(warehouse))
        assert done.returncode == 1, (sql, done.stdout)
        assert done.stderr.startswith("error: refused:"), (sql, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not scratch.exists() and not Path(f"{scratch}.csv").exists()
    counted = cli(
        "query", "SELECT count(*) AS n FROM taobao_villages", "--warehouse", str(warehouse)
    )
    assert str(len(TAOBAO_VILLAGES) * 3) in counted.stdout


def test_a_reader_that_leaves_early_gets_no_error(boundary_run: Path) -> None:
    """``query ... | head -1``: the pipe closes under the command, which stops quietly."""
    command = [*COMMAND, "query", "--format", "csv"]
    sql = "SELECT * FROM village_metrics, range(20)"  # more than a pipe's buffer
    done = subprocess.run(
        f"{shlex.join([*command, sql, '--warehouse', str(boundary_run)])} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout.startswith("edition,"), done.stdout
    assert done.stderr == ""


def test_a_run_whose_reader_leaves_early_still_publishes(tmp_path: Path) -> None:
    """``run | head -1``: the progress lines stop with the pipe, the run does not."""
    e = boundary_edition(2020)
    write_edition(tmp_path / "raw", 2020, e.villages, e.shops, e.revenue)
    warehouse = tmp_path / "wh.duckdb"
    command = [*COMMAND, "run", "--raw-dir"]
    command += [str(tmp_path / "raw"), "--warehouse", str(warehouse), "--editions", "2020"]
    done = subprocess.run(
        f"set -o pipefail; {shlex.join(command)} | head -1",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stderr == "" and len(done.stdout.splitlines()) == 1
    assert done.returncode == 141  # as a command killed by SIGPIPE
    [(villages,)] = read_table(warehouse, "SELECT count(*) FROM taobao_villages")
    assert villages == len(TAOBAO_VILLAGES)


def test_query_formats_and_output_files_keep_money_exact(
    boundary_run: Path, tmp_path: Path
) -> None:
    sql = "SELECT edition, revenue_rmb FROM national_summary ORDER BY edition"
    expected = read_table(boundary_run, sql)
    money = [str(r) for _, r in expected]
    wh = ("--warehouse", str(boundary_run))
    as_csv = cli("query", sql, *wh, "--format", "csv")
    assert as_csv.stdout.splitlines() == ["edition,revenue_rmb"] + [f"{e},{r}" for e, r in expected]
    as_json = json.loads(cli("query", sql, *wh, "--format", "json").stdout)
    assert [row["revenue_rmb"] for row in as_json] == money  # exact text, never a float
    markdown = cli("query", sql, *wh, "--format", "markdown").stdout.splitlines()
    assert markdown[0].replace(" ", "") == "|edition|revenue_rmb|" and money[0] in markdown[2]
    parquet = tmp_path / "out.parquet"
    assert cli("query", sql, *wh, "--output", str(parquet)).returncode == 0
    frame = pl.read_parquet(parquet)
    assert frame.schema["revenue_rmb"] == pl.Decimal(18, 2)
    assert [str(v) for v in frame["revenue_rmb"]] == money
    csv_file = tmp_path / "out.csv"
    done = cli("query", sql, *wh, "--output", str(csv_file))
    assert done.stdout.strip() == f"wrote {len(expected)} rows to {csv_file}"
    assert csv_file.read_text() == as_csv.stdout
    wrong = cli("query", sql, *wh, "--output", str(tmp_path / "out.xlsx"))
    assert wrong.returncode == 2 and ".csv or .parquet" in wrong.stderr
    nowhere = cli("query", sql, *wh, "--output", str(tmp_path / "no" / "out.csv"))
    assert nowhere.returncode == 1 and nowhere.stderr.startswith("error: cannot write ")


def test_run_under_a_rules_file_records_them_and_the_contracts_rules_recompute(
    tmp_path: Path,
) -> None:
    """``--rules`` reaches the run (not only its plan): under a threshold no village meets,
    none is designated, the rules are recorded, and a run without the file computes the
    edition again under the contract's rules."""
    e = boundary_edition(2020)
    write_edition(tmp_path / "raw", 2020, e.villages, e.shops, e.revenue)
    rules = tmp_path / "rules.toml"
    rules.write_text('min_revenue_rmb = "1000000000000.00"\n')
    args = ("--raw-dir", str(tmp_path / "raw"), "--warehouse", str(tmp_path / "w.duckdb"))
    strict = cli("run", *args, "--rules", str(rules))
    assert strict.returncode == 0, strict.stderr
    count = "SELECT count(*) FROM taobao_villages"
    assert read_table(tmp_path / "w.duckdb", count) == [(0,)]
    [(recorded,)] = read_table(
        tmp_path / "w.duckdb", "SELECT DISTINCT rules FROM edition_provenance"
    )
    assert json.loads(recorded)["min_revenue_rmb"] == "1000000000000.00"
    contract = cli("run", *args)
    assert contract.returncode == 0, contract.stderr
    assert "Ran edition 2020 in" in contract.stdout
    assert read_table(tmp_path / "w.duckdb", count) == [(len(TAOBAO_VILLAGES),)]
