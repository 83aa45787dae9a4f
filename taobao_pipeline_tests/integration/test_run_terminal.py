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
from taobao_pipeline.definitions import defs
from taobao_pipeline.progress import asset_stages, step_stages
from taobao_pipeline.runner import JOB, PATHS_RESOURCE, RANGE_END, RANGE_START, run_editions
from taobao_pipeline.summary import rmb_words
from taobao_pipeline_tests.command import COMMAND
from taobao_pipeline_tests.raw_files import village, write_edition
from taobao_pipeline_tests.scenarios import boundary_edition

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
JOB_DEF = defs.resolve_job_def(JOB)
STEPS = step_stages(JOB_DEF)
# the lines a run of 2019-2020 writes: each table made, each check judged, each step done
EXPECTED = [
    *(rf"{group} +{asset} +2019-2020 +made" for asset, group in asset_stages(JOB_DEF).items()),
    *(
        # one line per check for both editions: passed, or the editions not passed
        rf"check +{key.asset_key.to_user_string()}: {key.name} +2019-2020 "
        r"+(passed|((warn|error) 20\d\d(, 20\d\d)*(; )?)+)"
        for key in JOB_DEF.asset_layer.asset_graph.asset_check_keys
    ),
    *(rf"step +{s} +2019-2020 +done in \d+\.\d s" for s, g in STEPS.items() if g != "check"),
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
    assert any(f"[{len(STEPS)}/{len(STEPS)} steps]" in p for p in live), screen
    # a line per table made, check judged and step done, by stage and editions
    text = ANSI.sub("", screen.replace("\r\n", "\n")).replace("\r", "\n")
    assert len(_progress_lines(text)) == len(EXPECTED), screen
    # the summary: every line within 100 columns, its figures those of the warehouse
    summary = text[text.index("Ran editions 2019-2020") :]
    assert max(len(line) for line in summary.splitlines()) <= 100, [
        line for line in summary.splitlines() if len(line) > 100
    ]
    villages, towns, revenue, shops = read_table(
        warehouse,
        "SELECT taobao_villages, taobao_towns, revenue_rmb, active_shops "
        "FROM national_summary WHERE edition = 2020",
    )[0]
    assert isinstance(revenue, Decimal)
    assert (
        f"Latest edition, 2020: {villages:,} Taobao villages in {towns:,} Taobao towns, "
        f"revenue {rmb_words(revenue)}." in summary
    )
    for edition, v, t, r, s in read_table(
        warehouse,
        "SELECT edition, taobao_villages, taobao_towns, revenue_rmb, active_shops "
        "FROM national_summary ORDER BY edition",
    ):
        assert re.search(rf"^ +{edition} +{v:,} +{t:,} +{re.escape(rmb_words(r))} +{s:,}$",
                         summary, re.M)  # fmt: skip
    read, rejected = read_table(
        warehouse, "SELECT sum(rows_read), sum(rows_rejected) FROM load_audit"
    )[0]
    assert rejected == 2
    assert f"Rows read: {read:,}; rejected: {rejected:,}" in summary
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
