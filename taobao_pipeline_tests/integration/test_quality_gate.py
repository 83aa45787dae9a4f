"""A failed quality gate keeps the published edition as it was; the operator publishes
anyway by giving a reason, or withdraws an edition: both recorded in edition_provenance."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

from taobao_pipeline.defs.resources import QualityResource
from taobao_pipeline.runner import run_editions
from taobao_pipeline.warehouse import PAUSE_AT
from taobao_pipeline_tests.bad_rows import YEAR
from taobao_pipeline_tests.command import COMMAND, cli
from taobao_pipeline_tests.warehouse_queries import read_table

LENIENT = QualityResource(reject_error_share="1")  # every share passes the gate


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_args(raw: Path, warehouse: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--raw-dir",
        str(raw),
        "--warehouse",
        str(warehouse),
        "--editions",
        str(YEAR),
        *extra,
    ]


def test_a_failed_gate_keeps_the_published_edition_and_names_check_figure_threshold(
    rejected_run: Path, tmp_path: Path
) -> None:
    raw, warehouse = rejected_run.parent / "raw", tmp_path / "taobao.duckdb"
    run_editions(raw, warehouse, [YEAR], quality=LENIENT)
    before = sha256(warehouse)

    failed = cli(*run_args(raw, warehouse), "--force")
    assert failed.returncode == 1
    assert "shop_sales:rejected_share" in failed.stderr
    assert "of revenue rows rejected" in failed.stderr and "error threshold 5%" in failed.stderr
    assert f'--editions {YEAR} --publish-anyway "REASON"' in failed.stderr
    assert sha256(warehouse) == before  # not a byte changed

    reason = "checked with the registry: the month column shifted in one part"
    anyway = cli(*run_args(raw, warehouse), "--force", "--publish-anyway", reason)
    assert anyway.returncode == 0, anyway.stderr
    notes = read_table(
        warehouse, f"SELECT DISTINCT note FROM edition_provenance WHERE edition = {YEAR}"
    )
    assert len(notes) == 1
    assert "shop_sales:rejected_share" in notes[0][0] and notes[0][0].endswith(reason)


def test_withdraw_removes_an_edition_in_one_transaction_and_a_run_brings_it_back(
    raw: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "taobao.duckdb"
    run_editions(raw, warehouse, [2019, 2020])
    edition_rows = "SELECT count(*) FROM village_metrics WHERE edition = 2020"
    assert read_table(warehouse, edition_rows)[0][0] > 0

    done = cli(
        "withdraw", "--edition", "2020", "--reason", "wrong register", "--warehouse", str(warehouse)
    )
    assert done.returncode == 0, done.stderr
    assert "Withdrew edition 2020" in done.stdout
    for table in ("village_metrics", "taobao_villages", "national_summary", "load_audit"):
        assert read_table(warehouse, f"SELECT count(*) FROM {table} WHERE edition = 2020") == [(0,)]
    assert read_table(warehouse, "SELECT edition FROM national_summary") == [(2019,)]
    assert read_table(
        warehouse, "SELECT file, note FROM edition_provenance WHERE edition = 2020"
    ) == [("(withdrawn)", "withdrawn; reason: wrong register")]
    assert read_table(warehouse, "SELECT count(*) FROM reconciliation WHERE edition = 2020") == [
        (0,)
    ]

    again = cli("withdraw", "--edition", "2020", "--reason", "x", "--warehouse", str(warehouse))
    assert again.returncode == 1 and "nothing to withdraw" in again.stderr

    back = cli("run", "--raw-dir", str(raw), "--warehouse", str(warehouse))
    assert back.returncode == 0, back.stderr
    assert "Running 2020: withdrawn" in back.stdout  # 2019 is skipped, unchanged
    assert read_table(warehouse, edition_rows)[0][0] > 0


def test_a_withdraw_killed_before_its_rename_leaves_the_warehouse_as_it_was(
    raw: Path, tmp_path: Path
) -> None:
    warehouse, flag = tmp_path / "taobao.duckdb", tmp_path / "paused"
    run_editions(raw, warehouse, [2020])
    before = sha256(warehouse)
    env = os.environ | {PAUSE_AT: f"committed={flag}"}
    args = ["withdraw", "--edition", "2020", "--reason", "r", "--warehouse", str(warehouse)]
    process = subprocess.Popen([*COMMAND, *args], env=env, stderr=subprocess.PIPE)
    try:
        for _ in range(1200):
            if flag.exists() or process.poll() is not None:
                break
            time.sleep(0.05)
        assert flag.exists(), "the withdraw never reached its pause"
        process.send_signal(signal.SIGKILL)  # committed in the copy, not yet renamed
        process.wait(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert sha256(warehouse) == before
    assert read_table(warehouse, "SELECT count(*) FROM national_summary") == [(1,)]
