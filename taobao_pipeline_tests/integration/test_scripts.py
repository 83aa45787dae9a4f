"""The README's commands as a new user types them: ./run.sh and ./ui.sh from the root of a
clean copy of the project, with their default, relative paths, in processes with
timeouts (a hang fails fast); stopped by Ctrl-C or SIGTERM as a person or a service
manager stops them."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from taobao_pipeline_tests.command import cli
from taobao_pipeline_tests.services import VENV_BIN, free_port, graphql, stop, wait_until_serving

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
TIMEOUT = 600  # a run of two small editions takes seconds: only a hang comes near this


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's files as a clone has them (tracked, plus new files not ignored), its
    .venv the project's own (installed: no minute of installing per test), and small
    extracts of 2019 and 2020 in the default data/raw."""
    root = tmp_path_factory.mktemp("clone") / "taobao-pipeline"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)  # times kept: setup.sh sees no newer pyproject
    (root / ".venv").symlink_to(VENV_BIN.parent)
    made = cli("generate", "--out", str(root / "data" / "raw"), "--editions", "2019-2020",
               "--scale", "0.02", "--seed", "3")  # fmt: skip
    assert made.returncode == 0, made.stderr
    return root


def script_env() -> dict[str, str]:
    """The user's environment: the scripts choose DAGSTER_HOME and the data paths."""
    names = ("DAGSTER_HOME", "TAOBAO_RAW_DIR", "TAOBAO_WAREHOUSE", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k not in names}


def script(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(clone / args[0]), *args[1:]],
        cwd=clone, env=script_env(), capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_sh_with_its_default_paths_finishes_and_again_with_force(clone: Path) -> None:
    first = script(clone, "run.sh")
    assert first.returncode == 0, first.stderr
    assert "Ran editions 2019-2020" in first.stdout
    assert "Warehouse: data/warehouse/taobao.duckdb" in first.stdout
    assert (clone / "data" / "warehouse" / "taobao.duckdb").exists()
    assert (clone / ".dagster_home" / "history").is_dir()  # the run in the UI's history
    again = script(clone, "run.sh")
    assert again.returncode == 0 and "Skipped" in again.stdout
    forced = script(clone, "run.sh", "--force", "--editions", "2020")
    assert forced.returncode == 0, forced.stderr
    assert "Ran edition 2020" in forced.stdout


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_run_sh_in_seconds_leaving_the_warehouse_as_it_was(
    clone: Path, signum: signal.Signals, code: int
) -> None:
    warehouse = clone / "data" / "warehouse" / "taobao.duckdb"
    if not warehouse.exists():
        assert script(clone, "run.sh").returncode == 0
    before = digest(warehouse)
    run = subprocess.Popen(
        [str(clone / "run.sh"), "--force"], cwd=clone, env=script_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # Ctrl-C reaches the whole foreground group: so do we
    )  # fmt: skip
    try:
        # once the first step is at work (its first table made), the signal comes
        for line in run.stdout:
            if " made" in line:
                break
        os.killpg(run.pid, signum)
        sent = time.monotonic()
        out, err = run.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == code, err
    assert took < 15, f"stopped {took:.1f} s after the signal"
    assert err.strip().count("\n") == 0, err  # one line
    assert f"stopped by {signum.name}" in err
    assert "each edition again" not in out  # no retry of a stopped run
    assert digest(warehouse) == before
    leftovers = [p.name for p in warehouse.parent.rglob("*") if ".tmp-" in p.name]
    assert leftovers == [] or all(".staging" in str(p) for p in leftovers)
    after = script(clone, "run.sh", "--force")  # the next run needs no cleanup
    assert after.returncode == 0, after.stderr


def test_ui_sh_after_run_sh_shows_its_runs_and_run_sh_beside_it_works(clone: Path) -> None:
    if not (clone / "data" / "warehouse" / "taobao.duckdb").exists():
        assert script(clone, "run.sh").returncode == 0
    port, log = free_port(), clone.parent / "ui.log"
    with log.open("w") as out:
        ui = subprocess.Popen(
            [str(clone / "ui.sh")], cwd=clone, env=script_env() | {"PORT": str(port)},
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            # as `./ui.sh &` from a script or nohup starts it: SIGINT ignored
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )  # fmt: skip
    try:
        wait_until_serving(port, ui, log)
        beside = script(clone, "run.sh", "--force", "--editions", "2019")
        assert beside.returncode == 0, beside.stderr
        runs = graphql(
            port,
            "{ runsOrError { ... on Runs { results { jobName status } } } }",
        )["runsOrError"]["results"]
        assert {"jobName": "designation_job", "status": "SUCCESS"} in runs
    finally:
        took = stop(ui, signal.SIGTERM)  # as a service manager stops it
    assert took is not None and took < 30, log.read_text()[-2000:]
    # and with it the webserver, the daemon and the code servers it started
    deadline = time.monotonic() + 30
    while _group_alive(ui.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _group_alive(ui.pid), log.read_text()[-2000:]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
