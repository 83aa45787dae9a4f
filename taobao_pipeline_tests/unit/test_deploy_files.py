"""The deploy files and the instances' settings, read as files (moved from integration/: no
server started): the systemd units, env.example, the production and the local dagster.yaml,
Docker Compose, and the lock ./ui.sh installs."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import yaml

from taobao_pipeline_tests.services import STOP_WITHIN, VENV_BIN

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PG_VARIABLES = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD")
PG_VARIABLES += ("DAGSTER_PG_DB",)
UNITS = ("taobao-dagster-webserver.service", "taobao-dagster-daemon.service")


def _unit(name: str) -> dict[str, list[str]]:
    """The [Service] entries of a systemd unit of deploy/systemd: key -> every value."""
    entries: dict[str, list[str]] = {}
    section = None
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entries.setdefault(key, []).append(value)
    return entries


def _environment(unit: dict[str, list[str]]) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in unit["Environment"])


def test_systemd_units_share_one_home_and_run_the_servers_of_the_venv() -> None:
    webserver, daemon = (_unit(name) for name in UNITS)
    assert _environment(webserver)["DAGSTER_HOME"] == _environment(daemon)["DAGSTER_HOME"]
    assert _environment(webserver)["DAGSTER_HOME"] == "/var/lib/taobao-pipeline/dagster_home"
    assert webserver["WorkingDirectory"] == daemon["WorkingDirectory"]
    assert webserver["User"] == daemon["User"] == ["taobao"]
    for unit in (webserver, daemon):
        assert unit["EnvironmentFile"] == ["/etc/taobao-pipeline/env"]
        assert unit["Restart"] == ["on-failure"] and unit["KillSignal"] == ["SIGTERM"]
        assert int(unit["TimeoutStopSec"][0]) > STOP_WITHIN
        [workdir], [command] = unit["WorkingDirectory"], unit["ExecStart"]
        binary, *arguments = shlex.split(command)
        # the install is a checkout of this repository with its .venv, as here
        assert binary.startswith(f"{workdir}/.venv/bin/")
        assert (VENV_BIN / Path(binary).name).exists(), binary
        assert arguments[-2:] == ["-w", "workspace.yaml"] and (ROOT / "workspace.yaml").exists()
    assert shlex.split(webserver["ExecStart"][0])[1:] == [
        "-h", "127.0.0.1", "-p", "3000", "-w", "workspace.yaml",
    ]  # fmt: skip
    assert shlex.split(daemon["ExecStart"][0])[1:] == ["run", "-w", "workspace.yaml"]


def _package_source() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "taobao_pipeline").rglob("*.py"))


def _env_example() -> dict[str, str]:
    lines = (DEPLOY / "env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_env_example_lists_every_setting_and_no_secret() -> None:
    example = _env_example()
    assert set(PG_VARIABLES) <= set(example)
    assert {"TAOBAO_RAW_DIR", "TAOBAO_WAREHOUSE", "TAOBAO_SETTLE_SECONDS"} <= set(example)
    assert "TAOBAO_RETRY_DELAY_SECONDS" in example
    alerts = {"TAOBAO_ALERT_LOG", "TAOBAO_ALERT_WEBHOOK", "TAOBAO_ALERT_EMAIL_TO"}
    alerts |= {"TAOBAO_ALERT_EMAIL_FROM", "TAOBAO_SMTP_HOST", "TAOBAO_SMTP_PORT"}
    alerts |= {"TAOBAO_SMTP_USER", "TAOBAO_SMTP_PASSWORD"}
    assert alerts <= set(example)
    # and every setting the package reads from the environment (test hooks aside)
    read = {n for n in re.findall(r"TAOBAO_[A-Z_]+", _package_source()) if "_TEST_" not in n}
    assert read <= set(example), read - set(example)
    assert example["DAGSTER_PG_PASSWORD"] == "change-me" and example["TAOBAO_SMTP_PASSWORD"] == ""
    assert all(value == value.strip() and '"' not in value for value in example.values())


def _env_names(node: object) -> set[str]:
    """The variables that ``env:`` entries of a Dagster config read."""
    if isinstance(node, dict):
        names = {node["env"]} if set(node) == {"env"} else set()
        return names.union(*(_env_names(v) for v in node.values()))
    return set()


def test_production_instance_file() -> None:
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    postgres = config["storage"]["postgres"]["postgres_db"]
    # the connection comes from the environment only, every part of it
    assert {key: value for key, value in postgres.items() if key != "scheme"} == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USER"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }
    assert _env_names(config) <= set(_env_example())
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_monitoring"]["max_resume_run_attempts"] == 0  # the default launcher
    assert config["run_retries"] == {
        "enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False,
    }  # fmt: skip
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_coordinator"]["config"] == {"max_concurrent_runs": 1}
    assert config["telemetry"] == {"enabled": False}


def test_compose_shares_one_home_beside_postgres() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # merge keys resolved
    services = compose["services"]
    assert services["postgres"]["image"].split(":")[0] == "postgres"
    servers = [services["webserver"], services["daemon"]]
    homes = {s["environment"]["DAGSTER_HOME"] for s in servers}
    assert len(homes) == 1
    [home] = homes
    for server in servers:
        assert server["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert server["stop_signal"] == "SIGTERM"
        assert server["environment"]["DAGSTER_PG_HOST"] == "postgres"
        assert server["depends_on"]["postgres"]["condition"] == "service_healthy"
        mounts = {v.split(":")[1]: v.split(":")[0] for v in server["volumes"]}
        assert mounts[home] == "dagster_home" and mounts[f"{home}/dagster.yaml"] == "./dagster.yaml"
        data = Path(server["environment"]["TAOBAO_WAREHOUSE"]).parents[1]
        assert mounts[str(data)] == "data"
    assert shlex.join(services["daemon"]["command"]) == "dagster-daemon run -w workspace.yaml"
    assert "postgres" in compose["volumes"] and "data" in compose["volumes"]
    assert "${DAGSTER_PG_PASSWORD:?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r requirements/main.txt" in dockerfile
    assert f"deploy/dagster.yaml {home}/dagster.yaml" in dockerfile
    assert f"DAGSTER_HOME={home}" in dockerfile


def test_the_instance_monitors_and_retries_runs() -> None:
    """The project's instance (./run.sh, ./ui.sh) marks a killed run failed and retries it."""
    config = yaml.safe_load((ROOT / ".dagster_home" / "dagster.yaml").read_text())
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_retries"]["enabled"] is True and config["run_retries"]["max_retries"] > 0
    assert config["telemetry"]["enabled"] is False


def test_ui_sh_needs_only_the_main_lock() -> None:
    """./ui.sh runs `dg dev`, and ./run.sh installs requirements/main.txt: dg must be in it."""
    main = (ROOT / "requirements" / "main.txt").read_text()
    assert "\ndagster-dg-cli==" in main
    assert shutil.which("dg") or (ROOT / ".venv" / "bin" / "dg").exists()
