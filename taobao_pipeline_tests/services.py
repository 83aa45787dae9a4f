"""Dagster's servers as the tests start them (a helper module, not a test module): a free
loopback port, waiting until a server answers, GraphQL, and stopping it as a person or a
service manager does."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

# the project's virtualenv: dagster-webserver, dagster-daemon and dg beside this Python
VENV_BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parents[1]  # workspace.yaml
# seconds a server may take from SIGTERM to exit in the tests, well inside the systemd
# units' TimeoutStopSec (unit/test_deploy_files.py holds them to it)
STOP_WITHIN = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    """The data of a GraphQL query to the webserver on ``port`` (errors fail the test)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


def wait_until_serving(
    port: int, server: subprocess.Popen, log: Path | None = None, timeout: float = 180
) -> None:
    """Returns once the webserver on ``port`` answers ``/server_info``; raises, with the end
    of its ``log`` (or its stderr), if ``server`` exits or ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while server.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(1)
    if log is not None:
        output = log.read_text()
    else:
        if server.poll() is None:
            server.kill()
        output = server.stderr.read().decode() if server.stderr else ""
    state = f"exited with {server.returncode}" if server.poll() is not None else "no answer"
    raise RuntimeError(f"the server on port {port}: {state}\n{output[-3000:]}")


def stop(
    server: subprocess.Popen, first: signal.Signals = signal.SIGINT, patience: float = 30
) -> float | None:
    """Stops ``server``: ``first`` to it (Ctrl-C by default, as a person stops it; SIGTERM
    as systemd and Docker do), then SIGTERM and SIGKILL to its process group, each after
    ``patience`` seconds (SIGINT is ignored when the tests run as a background job). The
    seconds it took to exit after ``first``, or None if it needed more. Start the server
    with ``start_new_session=True``: its own process group."""
    started = time.monotonic()
    server.send_signal(first)
    for then in (signal.SIGTERM, signal.SIGKILL):
        try:
            server.wait(timeout=patience)
            return time.monotonic() - started if then == signal.SIGTERM else None
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):  # gone meanwhile
                os.killpg(server.pid, then)
    server.wait(timeout=patience)
    return None


@contextlib.contextmanager
def webserver(home: Path, raw: Path, warehouse: Path) -> Iterator[int]:
    """The project's code location in Dagster's webserver on a free loopback port, on the
    instance in ``home`` and the given paths; its port, until the block ends."""
    port = free_port()
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "TAOBAO_RAW_DIR": str(raw),
        "TAOBAO_WAREHOUSE": str(warehouse),
    }
    server = subprocess.Popen(
        [str(VENV_BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port)]
        + ["-w", str(PROJECT / "workspace.yaml")],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_serving(port, server, timeout=120)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
