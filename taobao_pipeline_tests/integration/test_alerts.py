"""The alerts an operator reads, from a real daemon: a run whose worker is SIGKILLed is
marked failed by Dagster, alerted with its cause and where it stands, retried by the
instance and, when the retry succeeds, one "recovered" line follows; a quality gate fails
once, final, with the launchpad's advice, and leaves no stack trace in the daemon's log."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from taobao_pipeline.definitions import defs
from taobao_pipeline.defs.automation import LOG_CONFIG, ORIGIN, _run_pid, console_logger
from taobao_pipeline.runner import JOB
from taobao_pipeline.warehouse import PAUSE_AT
from taobao_pipeline_tests import bad_rows
from taobao_pipeline_tests.raw_files import (
    REVENUE_COLUMNS,
    SHOP_COLUMNS,
    VILLAGE_COLUMNS,
    write_csv,
    write_edition,
)
from taobao_pipeline_tests.scenarios import boundary_edition
from taobao_pipeline_tests.services import VENV_BIN, stop

PROJECT = Path(__file__).resolve().parents[2]
QUEUE = """
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
"""


def _wait(what: str, done, timeout: float = 180, log: Path | None = None) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            tail = log.read_text()[-3000:] if log is not None and log.exists() else ""
            raise AssertionError(f"{what}: not within {timeout} s\n{tail}")
        time.sleep(0.1)


def _raw(root: Path) -> Path:
    """2020: the boundary edition (it publishes); 2019: the rejection scenario, which the
    quality gate stops."""
    raw = root / "raw"
    e = boundary_edition(2020)
    write_edition(raw, 2020, e.villages, e.shops, e.revenue)
    folder = raw / "2019"
    write_csv(folder / "villages.csv", bad_rows.VILLAGES, VILLAGE_COLUMNS)
    write_csv(folder / "shops.csv", bad_rows.SHOPS, SHOP_COLUMNS)
    write_csv(folder / "revenue-1.csv", bad_rows.REVENUE_1, REVENUE_COLUMNS)
    write_csv(folder / "revenue-2.csv", bad_rows.REVENUE_2, REVENUE_COLUMNS)
    return raw


def _alerts(log: Path) -> list[str]:
    """The alerts of the log, each with its lines (an alert starts with its time stamp)."""
    if not log.exists():
        return []
    alerts: list[str] = []
    for line in log.read_text().splitlines():
        if line[:4].isdigit() and "taobao-pipeline:" in line:
            alerts.append(line.split(" ", 1)[1])
        elif alerts:
            alerts[-1] += "\n" + line
    return alerts


def test_a_killed_run_alerts_its_cause_then_recovers_and_a_gate_fails_once(
    tmp_path: Path,
) -> None:
    home, flag = tmp_path / "home", tmp_path / "paused"
    home.mkdir()
    config = (PROJECT / ".dagster_home" / "dagster.yaml").read_text()  # run_retries: 2
    (home / "dagster.yaml").write_text(config + QUEUE)
    log, daemon_log = home / "alerts.log", tmp_path / "daemon.log"
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "TAOBAO_RAW_DIR": str(_raw(tmp_path)),
        "TAOBAO_WAREHOUSE": str(tmp_path / "warehouse" / "taobao.duckdb"),
        PAUSE_AT: f"locked={flag}",  # each publish waits there until the flag is removed
    }
    env.pop("TAOBAO_ALERT_LOG", None)
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    instance.get_runs()  # the storage made before two processes race to make it
    config_file = tmp_path / "run.yaml"
    config_file.write_text(json.dumps(LOG_CONFIG))

    def launch(edition: int) -> None:
        """As the schedule requests it: the daemon dequeues it and its code server runs it."""
        tags = {"dagster/partition": str(edition), ORIGIN: "schedule"}
        launched = subprocess.run(
            [str(VENV_BIN / "dagster"), "job", "launch", "-w", "workspace.yaml", "-j", JOB]
            + ["--tags", json.dumps(tags), "--config", str(config_file)],
            env=env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert launched.returncode == 0, launched.stderr[-3000:]

    with open(daemon_log, "w") as out:
        daemon = subprocess.Popen(
            [str(VENV_BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            env=env,
            cwd=PROJECT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # the alert sensor watches from its first tick on
        _wait("alert_on_failure's first tick", lambda: "alert_on_failure" in daemon_log.read_text())
        launch(2020)
        _wait("the run's publish", flag.exists, log=daemon_log)
        [run] = instance.get_runs()
        pid = _run_pid(instance, run.run_id)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()

        def status(run_id: str) -> dg.DagsterRunStatus:
            return instance.get_run_by_id(run_id).status

        _wait(
            "the killed run marked failed",
            lambda: status(run.run_id) == dg.DagsterRunStatus.FAILURE,
        )
        marked = time.monotonic() - killed
        assert marked < 10, marked  # by the code server that started it, not fail_dead_runs
        flag.unlink()
        # the instance's retry (run_retries) runs it again, and publishes
        _wait("the retry's publish", flag.exists, log=daemon_log)
        flag.unlink()
        retry = instance.get_run_by_id(
            instance.get_run_by_id(run.run_id).tags["dagster/auto_retry_run_id"]
        )
        _wait("the retry's success", lambda: status(retry.run_id) == dg.DagsterRunStatus.SUCCESS)
        succeeded = time.monotonic()
        _wait("the recovery alert", lambda: len(_alerts(log)) >= 2, timeout=120)
        latency = time.monotonic() - succeeded

        launch(2019)  # the quality gate stops it: final, once
        _wait("the gate's alert", lambda: len(_alerts(log)) >= 3, timeout=180, log=daemon_log)
        time.sleep(20)  # longer than the sensors' interval: no retry, no second alert
    finally:
        stop(daemon, signal.SIGTERM)
        instance.dispose()

    killed_alert, recovered, gate, *more = _alerts(log)
    assert more == [], more
    assert (
        "edition 2020 failed (schedule), attempt 1 of 3, Dagster runs it again now" in killed_alert
    )
    assert "its process was terminated by signal 9 (SIGKILL)" in killed_alert  # Dagster's cause
    assert "running out of memory" in killed_alert
    assert "follows in another alert" in killed_alert and "--verbose" not in killed_alert
    assert recovered.count("\n") == 0  # one line
    assert recovered.startswith(
        "taobao-pipeline: edition 2020 recovered (schedule): attempt 2 of 3"
    )
    assert f"after run {run.run_id} failed: its process was terminated by signal 9" in recovered
    assert "edition 2019 failed (schedule), final: not retried" in gate
    assert "village rows rejected (9 of 11); error threshold 5%" in gate
    assert gate.count("publish anyway") == 1 and "publish_anyway" in gate  # the launchpad's
    assert "--publish-anyway" not in gate and "run again with" not in gate
    assert latency < 60, latency
    print(f"\nkilled run marked failed after {marked:.2f} s; recovery alert {latency:.1f} s after")

    assert defs.resolve_job_def(JOB).loggers.get("console") is console_logger
    journal = daemon_log.read_text()
    assert "not published: the quality gate failed" in journal  # said, in one paragraph
    assert "Stack Trace" not in journal
