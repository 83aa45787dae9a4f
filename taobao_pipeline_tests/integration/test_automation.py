"""Running unattended: the schedule skips an edition that is not there yet, saying why; the
sensor waits for a folder to be still; failed runs retry with backoff; a failure alerts
the operator (a log file, a webhook on loopback); the instance settings and freshness
policies an operator relies on."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import shutil
import signal
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from taobao_pipeline.definitions import defs
from taobao_pipeline.defs.automation import ATTEMPT, ORIGIN, RETRY_OF
from taobao_pipeline.defs.resources import PathsResource, RulesResource
from taobao_pipeline.runner import JOB, run_config
from taobao_pipeline.warehouse import PAUSE_AT
from taobao_pipeline_tests.command import COMMAND
from taobao_pipeline_tests.raw_files import write_edition
from taobao_pipeline_tests.scenarios import boundary_edition

PROJECT = Path(__file__).resolve().parents[2]


def test_the_sensor_waits_until_a_folder_is_still(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sensor = defs.resolve_sensor_def("new_extracts")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    paths = PathsResource(raw_dir=str(raw), warehouse_path=str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("TAOBAO_SETTLE_SECONDS", "3600")

    def tick(cursor: str | None) -> dg.SensorResult:
        resources = {"paths": paths, "rules": RulesResource()}
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            return sensor(context)

    first = tick(None)
    assert first.run_requests == []  # seen now: not still long enough
    assert tick(first.cursor).run_requests == []
    # an hour later, unchanged: both editions run, once
    state = json.loads(first.cursor)
    for edition in state.values():
        edition["since"] -= 3601
    settled = tick(json.dumps(state))
    assert sorted(r.partition_key for r in settled.run_requests) == ["2019", "2020"]
    assert {r.tags[ORIGIN] for r in settled.run_requests} == {"sensor"}
    assert tick(settled.cursor).run_requests == []
    # a file arrives: the folder must be still again, from now
    (raw / "2020" / "revenue-2.csv").write_text((raw / "2020" / "revenue.csv").read_text())
    assert tick(settled.cursor).run_requests == []
    # a cursor written before the settle time (edition -> fingerprint) is read as settled
    old = {e: state["seen"] for e, state in json.loads(settled.cursor).items()}
    assert [r.partition_key for r in tick(json.dumps(old)).run_requests] == []


def _scheduled_run(
    tmp_path: Path, break_it: Callable[[Path, Path], None]
) -> tuple[dg.DagsterInstance, dg.DagsterRun]:
    """A run of designation_job for edition 2020, as the schedule starts it, after
    ``break_it(raw, warehouse)``; it must fail."""
    raw, warehouse = tmp_path / "raw", tmp_path / "w.duckdb"
    e = boundary_edition(2020)
    write_edition(raw, 2020, e.villages, e.shops, e.revenue)
    break_it(raw, warehouse)
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def(JOB).execute_in_process(
        run_config=run_config(raw, warehouse),
        instance=instance,
        partition_key="2020",
        tags={ORIGIN: "schedule"},
        raise_on_error=False,
    )
    assert not result.success
    return instance, result.dagster_run


def _folder_for_a_file(raw: Path, _: Path) -> None:
    (raw / "2020" / "villages.csv").unlink()
    (raw / "2020" / "villages.csv").mkdir()  # a folder under a source's name


def _foreign_changes(_: Path, warehouse: Path) -> None:
    # a DuckDB session's unapplied changes beside the warehouse: the publish waits for them
    warehouse.with_name(warehouse.name + ".wal").write_bytes(b"changes")


@pytest.fixture
def failed_scheduled_run(tmp_path: Path) -> tuple[dg.DagsterInstance, dg.DagsterRun]:
    """A scheduled run that failed by its data: its register is a folder, not a file."""
    return _scheduled_run(tmp_path, _folder_for_a_file)


@pytest.fixture
def busy_scheduled_run(tmp_path: Path) -> tuple[dg.DagsterInstance, dg.DagsterRun]:
    """A scheduled run that failed for a reason that may pass: the warehouse is busy."""
    return _scheduled_run(tmp_path, _foreign_changes)


def test_a_failed_scheduled_run_is_retried_with_backoff_and_bounded(
    busy_scheduled_run: tuple[dg.DagsterInstance, dg.DagsterRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance, run = busy_scheduled_run
    sensor = defs.resolve_sensor_def("retry_failed_editions")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING

    def tick() -> list[dg.RunRequest]:
        with dg.build_sensor_context(instance=instance) as context:
            return sensor(context).run_requests

    monkeypatch.setenv("TAOBAO_RETRY_DELAY_SECONDS", "3600")
    assert tick() == []  # failed just now: not yet
    monkeypatch.setenv("TAOBAO_RETRY_DELAY_SECONDS", "0")
    [retry] = tick()
    assert retry.partition_key == "2020" and retry.run_key == f"retry-{run.run_id}"
    assert retry.tags[ATTEMPT] == "1" and retry.tags[RETRY_OF] == run.run_id
    # a step that failed is never the instance's to retry as well
    assert retry.tags["dagster/retry_on_asset_or_op_failure"] == "false"
    # the last allowed retry failed too: no more
    instance.add_run_tags(run.run_id, {ATTEMPT: "2"})
    assert tick() == []


def test_a_failure_of_the_data_is_not_retried(
    failed_scheduled_run: tuple[dg.DagsterInstance, dg.DagsterRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bad file fails the same way every time: retry_failed_editions leaves it, and
    the instance's run_retries do not retry a failed step."""
    instance, run = failed_scheduled_run
    monkeypatch.setenv("TAOBAO_RETRY_DELAY_SECONDS", "0")
    sensor = defs.resolve_sensor_def("retry_failed_editions")
    with dg.build_sensor_context(instance=instance) as context:
        assert sensor(context).run_requests == []
    assert instance.get_run_by_id(run.run_id).tags["dagster/failure_reason"] == "STEP_FAILURE"


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    """An HTTP server on loopback that keeps the JSON bodies posted to it."""
    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the handler's name is http.server's)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _alert_tick(instance: dg.DagsterInstance) -> None:
    """One evaluation of alert_on_failure over every run status change of ``instance``."""
    sensor = defs.resolve_sensor_def("alert_on_failure")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    cursor = json.dumps({"PIPELINE_FAILURE": -1, "PIPELINE_SUCCESS": -1})
    with dg.build_sensor_context(instance=instance, cursor=cursor) as context:
        sensor(context)


def test_a_failed_run_alerts_in_the_log_and_on_the_webhook(
    failed_scheduled_run: tuple[dg.DagsterInstance, dg.DagsterRun],
    webhook: tuple[str, list[dict]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance, run = failed_scheduled_run
    url, received = webhook
    log = tmp_path / "alerts" / "alerts.log"
    monkeypatch.setenv("TAOBAO_ALERT_LOG", str(log))
    monkeypatch.setenv("TAOBAO_ALERT_WEBHOOK", url)
    _alert_tick(instance)

    text = log.read_text()
    assert "edition 2020 failed (schedule), final: not retried" in text  # where it stands
    assert "villages.csv" in text  # the failure itself: the file and its problem
    assert text.count("Fix or replace that file") == 1  # what to do, once
    assert "--verbose" not in text and "taobao-pipeline run" not in text  # not a shell's
    assert [body["text"] for body in received] == [text.split(" ", 1)[1].rstrip("\n")]


def test_a_failure_that_will_be_retried_says_when(
    busy_scheduled_run: tuple[dg.DagsterInstance, dg.DagsterRun],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance, run = busy_scheduled_run
    log = tmp_path / "alerts.log"
    monkeypatch.setenv("TAOBAO_ALERT_LOG", str(log))
    monkeypatch.setenv("TAOBAO_RETRY_DELAY_SECONDS", "600")
    _alert_tick(instance)
    [first, *rest] = log.read_text().splitlines()
    record = instance.get_run_record_by_id(run.run_id)
    at = dt.datetime.fromtimestamp(record.end_time + 600).astimezone()
    assert f"edition 2020 failed (schedule), attempt 1 of 3, next try at {at:%H:%M}" in first
    assert "The outcome of the retry follows in another alert." in rest


def test_a_webhook_that_cannot_be_reached_is_said_in_the_log(
    failed_scheduled_run: tuple[dg.DagsterInstance, dg.DagsterRun],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from taobao_pipeline.alerts import Alert, send

    log = tmp_path / "alerts.log"
    env = {"TAOBAO_ALERT_LOG": str(log), "TAOBAO_ALERT_WEBHOOK": "http://127.0.0.1:9/none"}
    reached = send(Alert("edition 2020", ["a failure"], "run-1", "schedule"), env)
    assert reached == ["log"]
    assert "alert not delivered: the webhook could not be reached" in log.read_text()


def test_a_killed_run_is_marked_failed(raw: Path, tmp_path: Path) -> None:
    """SIGKILL a real run mid-publish: it stays STARTED in the instance until
    fail_dead_runs sees its process gone and marks it failed (then retried, alerted)."""
    home, flag = tmp_path / "home", tmp_path / "paused"
    home.mkdir()
    shutil.copy(PROJECT / ".dagster_home" / "dagster.yaml", home)
    env = os.environ | {"DAGSTER_HOME": str(home), PAUSE_AT: f"locked={flag}"}
    args = ["run", "--raw-dir", str(raw), "--warehouse", str(tmp_path / "w.duckdb")]
    process = subprocess.Popen([*COMMAND, *args, "--editions", "2020"], env=env)
    try:
        deadline = time.monotonic() + 300
        while not flag.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flag.exists(), "the run never reached its publish"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
        process.wait()
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        [run] = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.STARTED  # what Dagster alone leaves
        sensor = defs.resolve_sensor_def("fail_dead_runs")
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        with dg.build_sensor_context(instance=instance) as context:
            sensor(context)
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        [failure] = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        assert "is gone: it was killed or crashed" in failure.message


class _SMTP(socketserver.StreamRequestHandler):
    """Just enough of a mail server (RFC 5321, no TLS) to receive one message."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 localhost")
        while line := self.rfile.readline().decode().strip():
            verb = line.split(" ", 1)[0].upper()
            if verb == "DATA":
                self.reply("354 go on")
                body = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                    body.append(data)
                self.server.messages.append("".join(body))  # type: ignore[attr-defined]
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # EHLO, MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


def test_an_alert_is_mailed_when_a_mail_server_is_configured(tmp_path: Path) -> None:
    from taobao_pipeline.alerts import Alert, send

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTP)
    server.messages = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        "TAOBAO_ALERT_LOG": str(tmp_path / "alerts.log"),
        "TAOBAO_ALERT_EMAIL_TO": "operator@example.org",
        "TAOBAO_SMTP_HOST": "127.0.0.1",
        "TAOBAO_SMTP_PORT": str(server.server_address[1]),
    }
    try:
        alert = Alert("edition 2021", ["villages.csv is not a CSV file"], "run-1", "schedule")
        assert send(alert, env) == ["log", "e-mail"]
    finally:
        server.shutdown()
        server.server_close()
    [message] = server.messages  # type: ignore[attr-defined]
    assert "Subject: taobao-pipeline: edition 2021 failed (schedule), final" in message
    assert "To: operator@example.org" in message
    assert "villages.csv is not a CSV file" in message
