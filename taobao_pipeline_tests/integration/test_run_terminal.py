"""``taobao-pipeline run`` as a person meets it: a real process on a pseudo-terminal (live
progress, the summary), in a log (a line per step), and the run it leaves in the UI."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from taobao_pipeline.cli import INSTANCE_CONFIG
from taobao_pipeline.runner import PATHS_RESOURCE, RANGE_END, RANGE_START, run_editions
from taobao_pipeline_tests.command import COMMAND
from taobao_pipeline_tests.raw_files import village, write_edition
from taobao_pipeline_tests.scenarios import boundary_edition

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# the lines a run of 2019-2020 writes, written out by hand: each table made, by its stage
MADE = {
    "official_lists": ["official_villages", "official_towns"],
    "staged_inputs": ["villages", "shops", "shop_sales", "rejected_rows", "load_audit"],
    "designations": [
        "provinces", "village_metrics", "taobao_villages", "taobao_towns", "county_summary",
        "taobao_clusters", "province_summary", "national_summary", "reconciliation",
        "official_reconciliation", "edition_provenance",
    ],
    "report": ["report"],
}  # fmt: skip
# each check judged, with its outcome on these editions: 2020's two broken register rows
# are a rejected share above the error threshold (published with --publish-anyway), and
# the boundary scenarios are not the published national record
JUDGED = {
    "villages: rejected_share": "error 2020",
    "shops: rejected_share": "passed",
    "shop_sales: rejected_share": "passed",
    "load_audit: load_audit_balances": "passed",
    "official_villages: official_villages_named": "passed",
    "official_villages: official_villages_unique": "passed",
    "village_metrics: active_shops_follow_rule": "passed",
    "taobao_villages: designations_follow_criteria": "passed",
    "taobao_towns: towns_follow_rule": "passed",
    "taobao_clusters: villages_in_clusters": "passed",
    "taobao_clusters: tiers_nested": "passed",
    "national_summary: national_equals_provinces": "passed",
    "national_summary: matches_published_record": "warn 2019, 2020",
    "national_summary: edition_on_time": "passed",
    "edition_provenance: inputs_unchanged": "passed",
}
# each step that makes tables, with its time; the job's three other steps run checks alone
# (official_villages_checks, edition_on_time, inputs_unchanged) and write no line of their own
TIMED = ["import_official_lists", "ingest_extracts", "designate_and_publish", "report"]
STEPS = 7
EXPECTED = [
    *(rf"{stage} +{table} +2019-2020 +made" for stage, tables in MADE.items() for table in tables),
    *(rf"check +{check} +2019-2020 +{outcome}" for check, outcome in JUDGED.items()),
    *(rf"step +{step} +2019-2020 +done in \d+\.\d s" for step in TIMED),
]


def _progress_lines(text: str) -> list[str]:
    """The lines of ``text`` that match an expected progress line, each once and in full."""
    lines = [line for line in text.splitlines() if re.match(r" +\d+:\d\d  \w+ ", line)]
    lines = [line for line in lines if " running " not in line]
    for pattern in EXPECTED:
        assert sum(bool(re.fullmatch(rf" +\d+:\d\d  {pattern}", x)) for x in lines) == 1, (
            pattern,
            text,
        )
    return lines


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """Editions 2019 and 2020 of the boundary scenarios, with two register rows that break
    a rule (a code of 11 digits) in 2020, so that the run rejects rows."""
    for year in (2019, 2020):
        e = boundary_edition(year)
        bad = [village("33078210120"), village("3307821012x")] if year == 2020 else []
        write_edition(tmp_path / "raw", year, e.villages + bad, e.shops, e.revenue)
    return tmp_path / "raw"


def read_table(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


# the two broken register rows are 2020's rejected share above the error threshold
ANYWAY = ("--publish-anyway", "two register rows broken on purpose")


def _command(raw: Path, warehouse: Path, *extra: str) -> list[str]:
    return [
        *COMMAND, "run",
        "--raw-dir", str(raw), "--warehouse", str(warehouse), "--editions", "2019-2020",
        *ANYWAY, *extra,
    ]  # fmt: skip


def _on_a_terminal(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    """What a terminal shows of ``argv`` (stdin, stdout and stderr on one pty)."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, close_fds=True
    )
    # the slave stays open here until the end: reading never meets the EIO of a closed
    # terminal, which can come before the last bytes are read
    chunks, deadline = [], time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                chunks.append(os.read(master, 65536))
            elif process.poll() is not None:
                break  # exited, and nothing more to read
    finally:
        os.close(slave)
        os.close(master)
    assert process.wait(timeout=60) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode()


def _env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {"DAGSTER_HOME": str(tmp_path / "home"), "COLUMNS": "100"}


def test_run_on_a_terminal_shows_progress_and_a_summary_of_the_warehouse(
    raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "wh" / "taobao.duckdb"
    screen = _on_a_terminal(_command(raw, warehouse), _env(tmp_path), tmp_path)
    # live: the line at work is redrawn in place, with the elapsed time and the step count
    assert "\r\x1b[K" in screen, screen
    live = [ANSI.sub("", part) for part in screen.split("\r")]
    assert any(re.match(r" +0:\d\d  running .*editions 2019-2020  \[\d+/", p) for p in live), screen
    assert any(f"[{STEPS}/{STEPS} steps]" in p for p in live), screen
    # a line per table made, check judged and step done, by stage and editions
    text = ANSI.sub("", screen.replace("\r\n", "\n")).replace("\r", "\n")
    assert len(_progress_lines(text)) == len(EXPECTED), screen
    # the summary: every line within 100 columns, its figures those of the warehouse
    summary = text[text.index("Ran editions 2019-2020") :]
    assert max(len(line) for line in summary.splitlines()) <= 100, [
        line for line in summary.splitlines() if len(line) > 100
    ]
    # the boundary scenarios' figures (test_designations), as the warehouse holds them
    assert read_table(
        warehouse,
        "SELECT edition, taobao_villages, taobao_towns, revenue_rmb, active_shops "
        "FROM national_summary ORDER BY edition",
    ) == [
        (2019, 18, 4, Decimal("340000000.00"), 1750),
        (2020, 18, 3, Decimal("340000000.00"), 1750),
    ]
    # and as the summary says them
    latest = "Latest edition, 2020: 18 Taobao villages in 3 Taobao towns, revenue RMB 340 million."
    assert latest in summary, summary
    assert re.search(r"^ +2019 +18 +4 +RMB 340 million +1,750$", summary, re.M), summary
    assert re.search(r"^ +2020 +18 +3 +RMB 340 million +1,750$", summary, re.M), summary
    # the files' rows: 37, 3,301 and 9,941 in 2019; 39 (two broken), 3,301, 9,941 in 2020
    assert "Rows read: 26,560; rejected: 2 (0.01%)" in summary
    assert "Warehouse: wh/taobao.duckdb" in summary  # from the folder it ran in
    assert 'taobao-pipeline query "SELECT * FROM national_summary' in summary
    assert "dg dev" in summary  # no ui.sh in this folder
    # the progress is the person's: none of it in the run's compute logs (Dagster captures
    # the process's output while it runs, and echoed the last lines late or never)
    logs = [log.read_text(errors="replace") for log in (tmp_path / "home").rglob("*.err")]
    assert not any("steps]" in log or "2019-2020" in log for log in logs)
    # the instance the run made has telemetry off: no banner
    assert "Telemetry" not in text
    assert "enabled: false" in (tmp_path / "home" / "dagster.yaml").read_text()


def test_run_in_a_log_writes_a_line_per_step(raw: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        _command(raw, tmp_path / "w.duckdb"),
        capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "\x1b" not in run.stdout and "\r" not in run.stdout
    # the expected lines on stdout, before the summary; nothing on stderr (no warning, no
    # Dagster log): it holds only an error's paragraph
    assert len(_progress_lines(run.stdout)) == len(EXPECTED)
    assert run.stderr == ""
    assert "Ran editions 2019-2020" in run.stdout
    assert "share_outside_east" not in run.stdout  # the wide table only with --wide


def test_run_wide_and_verbose(raw: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        _command(raw, tmp_path / "w.duckdb", "--wide", "-v"),
        capture_output=True, text=True, env=_env(tmp_path), cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "share_outside_east" in run.stdout and "all_revenue_rmb" in run.stdout
    assert "STEP_SUCCESS" in run.stderr  # Dagster's own log lines


def test_a_command_line_run_is_a_run_of_designation_job(tmp_path: Path) -> None:
    raw = tmp_path / "raw"  # no row broken: nothing for the quality gate to stop
    for year in (2019, 2020):
        e = boundary_edition(year)
        write_edition(raw, year, e.villages, e.shops, e.revenue)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_CONFIG)  # as the command writes it
    instance = dg.DagsterInstance.from_config(str(home))
    run_editions(raw, tmp_path / "w.duckdb", [2019, 2020], instance=instance)
    run_editions(raw, tmp_path / "w.duckdb", [2020], instance=instance)
    single, ranged = instance.get_runs()  # newest first
    assert ranged.job_name == single.job_name == "designation_job"
    assert (ranged.tags[RANGE_START], ranged.tags[RANGE_END]) == ("2019", "2020")
    assert single.tags["dagster/partition"] == "2020"
    # the definitions' resources: the run config only points them at the paths
    assert ranged.run_config["resources"] == {
        PATHS_RESOURCE: {
            "config": {
                "raw_dir": str(raw.absolute()),
                "warehouse_path": str((tmp_path / "w.duckdb").absolute()),
            }
        }
    }
