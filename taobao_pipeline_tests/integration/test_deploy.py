"""The pipeline as a service (deploy/, docs/operations.md): the production instance on a
real PostgreSQL, its webserver and daemon started and stopped as systemd and Docker do,
and the deploy files themselves.

The PostgreSQL is the one the DAGSTER_PG_* variables name (``eval "$(scripts/postgres.sh)"``
starts a throwaway one; .ci/run does). Each session works in a database of its own, made
here and dropped after, so runs never mix. Without those variables the PostgreSQL tests
skip, saying so, except under CI=true (.ci/run), where they fail (``prerequisites``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from taobao_pipeline.runner import run_editions
from taobao_pipeline_tests.command import cli
from taobao_pipeline_tests.prerequisites import require
from taobao_pipeline_tests.scenarios import TAOBAO_VILLAGES
from taobao_pipeline_tests.services import (
    STOP_WITHIN,
    VENV_BIN,
    free_port,
    graphql,
    stop,
    wait_until_serving,
)
from taobao_pipeline_tests.warehouse_queries import read_table

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PG_VARIABLES = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD")
PG_VARIABLES += ("DAGSTER_PG_DB",)


@pytest.fixture(scope="module")
def postgres() -> Iterator[dict[str, str]]:
    """The DAGSTER_PG_* variables, naming a fresh database of this session (dropped after)."""
    missing = [name for name in PG_VARIABLES if not os.environ.get(name)]
    require(
        not missing,
        f"no PostgreSQL for the production instance: {', '.join(missing)} unset "
        '(eval "$(scripts/postgres.sh)" starts one)',
    )
    import psycopg2  # dagster-postgres's driver
    from psycopg2 import sql

    server = psycopg2.connect(
        host=os.environ["DAGSTER_PG_HOST"],
        port=os.environ["DAGSTER_PG_PORT"],
        user=os.environ["DAGSTER_PG_USER"],
        password=os.environ["DAGSTER_PG_PASSWORD"],
        dbname=os.environ["DAGSTER_PG_DB"],
        connect_timeout=10,
    )
    server.autocommit = True  # CREATE DATABASE runs outside a transaction
    name = f"taobao_test_{uuid.uuid4().hex[:12]}"
    with server.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield {key: os.environ[key] for key in PG_VARIABLES} | {"DAGSTER_PG_DB": name}
    finally:
        with server.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        server.close()


@pytest.fixture(scope="module")
def production(
    postgres: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The environment of the services: a DAGSTER_HOME holding a copy of deploy/dagster.yaml,
    the database above, and data folders of their own; set in this process too, so that
    ``DagsterInstance.get()`` is the production instance."""
    home = tmp_path_factory.mktemp("production_home")
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    data = tmp_path_factory.mktemp("production_data")
    env = postgres | {
        "DAGSTER_HOME": str(home),
        "TAOBAO_RAW_DIR": str(data / "raw"),
        "TAOBAO_WAREHOUSE": str(data / "warehouse" / "taobao.duckdb"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield env


@pytest.fixture
def instance(production: dict[str, str]) -> Iterator[dg.DagsterInstance]:
    """``DagsterInstance.get()`` in the services' environment: the production instance."""
    with dg.DagsterInstance.get() as instance:  # its connections closed after the test
        yield instance


def _runs_in_postgres(env: dict[str, str]) -> dict[str, str]:
    """run_id -> status, read from Dagster's runs table with psycopg2, not through Dagster."""
    import psycopg2

    connection = psycopg2.connect(
        host=env["DAGSTER_PG_HOST"],
        port=env["DAGSTER_PG_PORT"],
        user=env["DAGSTER_PG_USER"],
        password=env["DAGSTER_PG_PASSWORD"],
        dbname=env["DAGSTER_PG_DB"],
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT run_id, status FROM runs")
            return dict(cursor.fetchall())
    finally:
        connection.close()


def test_an_edition_runs_on_the_production_instance(
    production: dict[str, str], instance: dg.DagsterInstance, raw: Path, tmp_path: Path
) -> None:
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres.event_log import PostgresEventLogStorage
    from dagster_postgres.run_storage import PostgresRunStorage
    from dagster_postgres.schedule_storage import PostgresScheduleStorage

    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
    assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 1
    assert instance.run_monitoring_enabled and instance.run_retries_enabled
    assert instance.run_retries_max_retries == 2
    assert not instance.run_retries_retry_on_asset_or_op_failure  # step failures: the sensor

    warehouse = tmp_path / "warehouse" / "taobao.duckdb"
    [result] = run_editions(raw, warehouse, [2020], instance=instance)
    assert result.success

    run = instance.get_run_by_id(result.run_id)
    assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    assert run.job_name == "designation_job" and run.tags["dagster/partition"] == "2020"
    assert result.run_id in {r.run_id for r in instance.get_runs()}
    assert _runs_in_postgres(production)[result.run_id] == "SUCCESS"  # in the database itself
    assert read_table(warehouse, "SELECT edition, taobao_villages FROM national_summary") == [
        (2020, len(TAOBAO_VILLAGES))
    ]


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A service as the units start it: from the project's root, its own process group."""
    with log.open("w") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def test_webserver_and_daemon_serve_and_stop_on_sigterm(
    production: dict[str, str], instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    env = os.environ | production
    port = free_port()
    web_log, daemon_log = tmp_path / "webserver.log", tmp_path / "daemon.log"
    workspace = ["-w", "workspace.yaml"]
    webserver = _start(
        [str(VENV_BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *workspace],
        env, web_log,
    )  # fmt: skip
    daemon = _start([str(VENV_BIN / "dagster-daemon"), "run", *workspace], env, daemon_log)
    took: dict[str, float | None] = {}
    try:
        wait_until_serving(port, webserver, web_log)
        # the webserver loaded the code location of workspace.yaml, with its automation
        entries = graphql(
            port,
            "{ workspaceOrError { ... on Workspace { locationEntries { name "
            "locationOrLoadError { __typename ... on PythonError { message } } } } } }",
        )["workspaceOrError"]["locationEntries"]
        assert [(e["name"], e["locationOrLoadError"]["__typename"]) for e in entries] == [
            ("taobao_pipeline", "RepositoryLocation")
        ], entries
        selector = '{repositoryName: "__repository__", repositoryLocationName: "taobao_pipeline"}'
        schedules = graphql(
            port,
            f"{{ schedulesOrError(repositorySelector: {selector}) {{ ... on Schedules "
            "{ results { name scheduleState { status } } } } }",
        )["schedulesOrError"]["results"]
        assert {"name": "annual_designation", "scheduleState": {"status": "RUNNING"}} in schedules
        sensors = graphql(
            port,
            f"{{ sensorsOrError(repositorySelector: {selector}) {{ ... on Sensors "
            "{ results { name sensorState { status } } } } }",
        )["sensorsOrError"]["results"]
        assert {"name": "new_extracts", "sensorState": {"status": "STOPPED"}} in sensors

        # the daemon's heartbeats reach PostgreSQL: every daemon the instance needs, with run
        # monitoring and run retries among them, and the webserver sees them healthy there
        required = set(instance.get_required_daemon_types())
        assert {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR"} <= required
        assert {"MONITORING", "EVENT_LOG_CONSUMER"} <= required  # run_monitoring, run_retries
        deadline = time.monotonic() + 120
        while set(instance.get_daemon_heartbeats()) < required:
            assert daemon.poll() is None, daemon_log.read_text()[-3000:]
            assert time.monotonic() < deadline, (
                f"heartbeats of {sorted(instance.get_daemon_heartbeats())}, not {sorted(required)}"
                f"\n{daemon_log.read_text()[-3000:]}"
            )
            time.sleep(1)
        statuses = graphql(
            port,
            "{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy "
            "lastHeartbeatErrors { message } } } } }",
        )["instance"]["daemonHealth"]["allDaemonStatuses"]
        unhealthy = [s for s in statuses if s["required"] and not s["healthy"]]
        assert {s["daemonType"] for s in statuses if s["required"]} == required
        assert not unhealthy, unhealthy
    finally:
        # SIGTERM, as `systemctl stop` and `docker compose stop` send it
        for name, server in (("webserver", webserver), ("daemon", daemon)):
            if server.poll() is None:
                took[name] = stop(server, signal.SIGTERM, patience=STOP_WITHIN)
    logs = f"{web_log.read_text()[-2000:]}\n{daemon_log.read_text()[-2000:]}"
    assert set(took) == {"webserver", "daemon"}, logs  # both were still serving
    assert all(seconds is not None for seconds in took.values()), (took, logs)
    assert (webserver.returncode, daemon.returncode) == (0, 0), logs  # a clean shutdown
    # each left no process behind: its code server (and any run) ended with it
    for server in (webserver, daemon):
        assert _group_ends(server.pid, within=10) == [], logs


def _group_ends(group: int, within: float) -> list[str]:
    """The processes of a process group still running after ``within`` seconds (an ended
    process that its new parent has not reaped yet, a zombie, has ended)."""
    deadline = time.monotonic() + within
    while True:
        running = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                pid, rest = stat.read_text().split(" (", 1)
            except OSError:  # ended meanwhile
                continue
            state, _, pgrp = rest.rsplit(") ", 1)[1].split()[:3]
            if int(pgrp) == group and state != "Z":
                running.append(pid)
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.2)


UNITS = ("taobao-dagster-webserver.service", "taobao-dagster-daemon.service")


# systemd is not a prerequisite of CI (a container may well have none): a plain skip
@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """systemd-analyze verify, with the install at this checkout (its .venv exists)."""
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/taobao-pipeline", str(ROOT)))
    check = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr


def test_local_instance_monitors_and_retries_as_production_does(tmp_path: Path) -> None:
    """.dagster_home (./run.sh, ./ui.sh): the same run monitoring and retries, in SQLite."""
    local = yaml.safe_load((ROOT / ".dagster_home" / "dagster.yaml").read_text())
    production = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert local["run_monitoring"] == production["run_monitoring"]
    assert local["run_retries"] == production["run_retries"]
    assert local["telemetry"] == {"enabled": False} and "storage" not in local
    # Dagster takes the file as it is (a copy: the user's .dagster_home is left alone)
    shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_monitoring_enabled and instance.run_retries_max_retries == 2
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"


def test_the_summary_names_the_postgresql_history(
    production: dict[str, str], raw: Path, tmp_path: Path
) -> None:
    """A command run as the services run (their home, their database) says its history is
    in PostgreSQL, and does not send the operator to ./ui.sh, which opens another one."""
    done = cli(
        "run", "--raw-dir", str(raw), "--warehouse", str(tmp_path / "w.duckdb"),
        "--editions", "2020", env=os.environ | production,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    database, host, port = (
        production[k] for k in ("DAGSTER_PG_DB", "DAGSTER_PG_HOST", "DAGSTER_PG_PORT")
    )
    assert f"Run history: PostgreSQL, database {database} on {host}:{port}" in done.stdout
    assert "./ui.sh" not in done.stdout
