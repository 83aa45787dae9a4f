"""Benchmark: one edition run as the UI, the schedule and the sensor launch it, against the CLI.

    python -m benchmarks.launched [--scale 1.0] [--edition 2022] [--repeat 3] [--raw DIR]
                                  [--before 38714ec~1] [--contenders cli,launched,...]

The code measured is a commit, ``--code`` (default ``HEAD`` when the benchmark starts),
not the working tree, which others may be editing meanwhile: its package is extracted with
``git archive`` into a temporary folder (the repository is not touched) and put first on
``PYTHONPATH`` of every process the benchmark starts (checked: the package imported is the
extracted one). The data (one edition) is generated once into a temporary folder
(``taobao-pipeline generate``; or ``--raw DIR``). Each repetition runs every contender once,
on a fresh warehouse and ``DAGSTER_HOME``, the order rotating from one repetition to the
next:

- **cli**: ``taobao-pipeline run --editions EDITION --force``, a child process; wall and CPU
  seconds and peak memory from ``os.wait4`` (``benchmarks.run.run_child``);
- **launched**: the run worker of a launched run. A code server (``dagster api
  grpc -m taobao_pipeline.definitions``, its paths from ``TAOBAO_RAW_DIR`` /
  ``TAOBAO_WAREHOUSE`` as a deployment sets them) is started; ``dagster job launch`` submits
  ``designation_job`` for the edition's partition to the instance, whose run launcher (the
  default one, as in ``deploy/dagster.yaml``) asks the code server to start the run: the
  server spawns the run worker, which runs the job with the job's own executor. The
  instance uses the ``DefaultRunCoordinator``, so the run starts at once instead of waiting
  for a daemon to dequeue it (what the daemon then does is the same launcher call).
  Measured: the worker's CPU seconds, with its children's, as the growth of the code
  server's ``cutime + cstime`` (``/proc/PID/stat``) from before the launch to after the
  server reaped the worker (nothing else of the server's ends meanwhile); wall seconds from
  the worker's start (``starttime`` in ``/proc``) to its exit; peak memory as the largest
  ``VmHWM`` of any process of the worker's tree, sampled every 0.1 s (the same measure as
  ``ru_maxrss``: the largest process, not the sum);
- **launched, multiprocess**: the same code location but ``designation_job`` on Dagster's
  default multiprocess executor (``multiprocess_definitions`` below): the executor's effect
  alone;
- **launched, 38714ec~1**: the same launched path with the code of ``--before`` (default
  ``38714ec~1``, the last commit before ``designation_job`` declared
  ``executor_def=in_process_executor``: the job had Dagster's default multiprocess
  executor), extracted the same way.

Every run must leave the same ``national_summary`` row and the same designated villages
for the edition. Prints a table in Markdown: medians of wall and CPU seconds, the least CPU
seconds (the run least disturbed by other work on the machine), the processes that logged
events of the run (its event log's pids), the peak of the largest process and the sampled
peak of all the tree's processes together (the CLI's tree is sampled the same way). Each
progress line also gives the CPU seconds of the tree's processes as last sampled: a check
of the ``cutime`` figure, which it should approach from below.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from benchmarks.run import CLI, PYTHON, ROOT, Contender, Run, machine, run_child

if TYPE_CHECKING:  # imported in the functions that use it
    import dagster as dg

DAGSTER = ROOT / ".venv" / "bin" / "dagster"
JOB = "designation_job"
LOCATION = "taobao_pipeline"
TICK = os.sysconf("SC_CLK_TCK")
CONTENDERS = ("cli", "launched", "multiprocess", "before")
# the temporary instance: no telemetry; a launched run starts at once (no daemon)
INSTANCE_YAML = """\
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
"""
WORKSPACE_YAML = """\
load_from:
  - grpc_server:
      socket: {socket}
      location_name: {location}
"""


def multiprocess_definitions() -> dg.Definitions:
    """The code location, ``designation_job`` on Dagster's default executor (a process per
    step), as it was before 38714ec: the code server loads it with ``-a``."""
    import dagster as dg

    from taobao_pipeline import definitions

    job = dg.define_asset_job(
        JOB, selection=dg.AssetSelection.all(), executor_def=dg.multiprocess_executor
    )
    return dg.Definitions(
        assets=definitions.all_assets,
        asset_checks=definitions.all_checks,
        jobs=[job],
        resources=definitions.defs.resources,
    )


@dataclass
class Launch:
    """How a contender's code server loads its code: module, attribute, source folder."""

    module: str
    source: Path  # the package's folder: the working directory, first on PYTHONPATH
    attribute: str | None = None


@dataclass
class Outcome:
    """What one run left in its warehouse and its Dagster home."""

    summary: dict[str, object] | None = None
    villages: tuple[int, str] | None = None  # how many, and a digest of their codes
    processes: int = 0  # distinct pids in the run's event log


@dataclass
class Measured:
    contender: Contender
    label: str
    executor: str
    outcomes: list[Outcome] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average at each start
    tree_mb: list[float] = field(default_factory=list)  # peak resident memory of the tree


# --- /proc ------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command (field 3, the state, first)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _children_cpu(pid: int) -> float:
    """CPU seconds of the reaped children of ``pid`` (``cutime + cstime``)."""
    fields = _stat(pid)
    assert fields is not None, f"process {pid} is gone"
    return (int(fields[13]) + int(fields[14])) / TICK


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _memory_kb(pid: int) -> tuple[int, int]:
    """The process's resident memory now and at its peak (``VmRSS``, ``VmHWM``), KiB."""
    found = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found.get("VmRSS", 0), found.get("VmHWM", 0)


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


class Worker:
    """Watches the first child that ``parent`` starts after this is made (the code server's
    run worker; the benchmark's CLI child): its start and exit, and its whole tree every
    0.1 s: the largest peak of a process (``VmHWM``), the largest sum of the processes'
    resident memory, each process's CPU seconds as last seen."""

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.before = set(_children(parent))
        self.pid: int | None = None
        self.started = self.ended = 0.0  # seconds since boot
        self.hwm_kb = self.tree_kb = 0
        self.cpu_seen: dict[int, float] = {}  # pid -> utime + stime, as last seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            if self.pid is None:
                new = [
                    p
                    for p in _children(self.parent)
                    if p not in self.before and "resource_tracker" not in _cmdline(p)
                ]
                if not new:
                    continue
                self.pid = new[0]
                fields = _stat(self.pid)
                self.started = (
                    int(fields[19]) / TICK if fields else time.clock_gettime(time.CLOCK_BOOTTIME)
                )
            if not _alive(self.pid):
                self.ended = time.clock_gettime(time.CLOCK_BOOTTIME)
                return
            stack, tree_kb = [self.pid], 0
            while stack:
                pid = stack.pop()
                fields = _stat(pid)
                if fields is None or fields[0] == "Z":
                    continue
                self.cpu_seen[pid] = (int(fields[11]) + int(fields[12])) / TICK
                rss, hwm = _memory_kb(pid)
                self.hwm_kb, tree_kb = max(self.hwm_kb, hwm), tree_kb + rss
                stack += _children(pid)
            self.tree_kb = max(self.tree_kb, tree_kb)

    def wait(self, timeout: float) -> bool:
        """Whether the worker started and ended within ``timeout`` seconds."""
        self._thread.join(timeout)
        self._stop.set()
        return bool(self.ended)

    def reaped(self, timeout: float = 30) -> bool:
        """Wait until the server has reaped the worker (its CPU is then in ``cutime``)."""
        deadline = time.monotonic() + timeout
        while self.pid is not None and _stat(self.pid) is not None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def kill(self) -> None:
        """End what is left of the worker's tree (after a failure)."""
        for pid in self.cpu_seen:
            if _alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


# --- the contenders -----------------------------------------------------------------------


def _home(work: Path) -> Path:
    home = work / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    return home


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAOBAO_") and k != "PYTHONPATH"}
    return env | extra


def run_cli(raw: Path, edition: int, work: Path, code: Path) -> tuple[Run, Worker]:
    """``taobao-pipeline run`` for the edition into a fresh warehouse, a child process."""
    env = _env(DAGSTER_HOME=str(_home(work)), PYTHONPATH=str(code))
    argv = [CLI, "run", "--raw-dir", raw, "--warehouse", work / "wh" / "wh.duckdb"]
    tree = Worker(os.getpid())
    run = run_child([*argv, "--editions", str(edition), "--force"], work / "cli.log", env)
    tree.wait(timeout=10)
    return run, tree


def _server_ready(server: subprocess.Popen, log: Path, timeout: float = 180) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        if "Started Dagster code server" in log.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def run_launched(raw: Path, edition: int, work: Path, launch: Launch) -> tuple[Run, Worker | None]:
    """A run launched through the instance's run launcher; its worker measured (docstring)."""
    home = _home(work)
    socket = work / "grpc.sock"
    workspace = work / "workspace.yaml"
    workspace.write_text(WORKSPACE_YAML.format(socket=socket, location=LOCATION))
    (work / "wh").mkdir()
    env = _env(
        DAGSTER_HOME=str(home),
        TAOBAO_RAW_DIR=str(raw),
        TAOBAO_WAREHOUSE=str(work / "wh" / "wh.duckdb"),
    )
    # the package first; the benchmarks too, for multiprocess_definitions
    env["PYTHONPATH"] = f"{launch.source}{os.pathsep}{ROOT}"
    argv = [DAGSTER, "api", "grpc", "-s", socket, "-m", launch.module]
    argv += ["-a", launch.attribute] if launch.attribute else []
    argv += ["--location-name", LOCATION]
    server_log = work / "server.log"
    with open(server_log, "w") as out:
        server = subprocess.Popen(
            [str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=launch.source
        )
    worker: Worker | None = None
    try:
        if not _server_ready(server, server_log):
            return _failed("the code server did not start", server_log), None
        before = _children_cpu(server.pid)
        worker = Worker(server.pid)
        tags = json.dumps({"dagster/partition": str(edition)})
        run_id = str(uuid.uuid4())
        argv = [DAGSTER, "job", "launch", "-w", workspace, "-j", JOB, "--tags", tags]
        launched = run_child(
            [*argv, "--run-id", run_id], work / "launch.log", _env(DAGSTER_HOME=str(home))
        )
        if not launched.ok:
            return _failed(f"dagster job launch: {launched.note}", work / "launch.log"), worker
        if not worker.wait(timeout=3600) or not worker.reaped():
            return _failed("the run worker did not start or end", server_log), worker
        cpu = _children_cpu(server.pid) - before
        status = _run_status(home, run_id)
        seconds = worker.ended - worker.started
        run = Run(seconds, worker.hwm_kb / 1024, status == "SUCCESS", "", cpu)
        if not run.ok:
            run.note = f"run {status}"
        return run, worker
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if worker is not None:
            worker.kill()


def _failed(note: str, log: Path) -> Run:
    tail = log.read_text(errors="replace").splitlines()[-15:]
    print(f"  failed: {note}; see {log}\n    " + "\n    ".join(tail), flush=True)
    return Run(0.0, 0.0, False, note, 0.0)


def _run_status(home: Path, run_id: str) -> str:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(run_id)
        return run.status.value if run else "missing"


def outcome(work: Path, edition: int) -> Outcome:
    """The edition's national_summary row and designated villages, and the processes that
    logged events in the run(s) of the work folder's Dagster home."""
    import dagster as dg

    found = Outcome()
    with duckdb.connect(str(work / "wh" / "wh.duckdb"), read_only=True) as conn:
        cur = conn.execute("SELECT * FROM national_summary WHERE edition = ?", [edition])
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        if len(rows) == 1:
            found.summary = {n: str(v) for n, v in zip(names, rows[0], strict=True)}
        codes = conn.execute(
            "SELECT village_code FROM taobao_villages WHERE edition = ? ORDER BY 1", [edition]
        ).fetchall()
    digest = hashlib.sha256("\n".join(str(c) for (c,) in codes).encode()).hexdigest()[:12]
    found.villages = (len(codes), digest)
    with dg.DagsterInstance.from_config(str(work / "dagster_home")) as instance:
        events = [e for r in instance.get_runs() for e in instance.all_logs(r.run_id)]
    found.processes = len({e.dagster_event.pid for e in events if e.dagster_event} - {None})
    return found


def extract(rev: str, into: Path) -> str:
    """The package at ``rev`` into the new folder ``into`` (``git archive``: the repository
    is not touched), checked to be the one imported with it first on PYTHONPATH; its hash."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()
    into.mkdir()
    archive = into / "src.tar"
    subprocess.run(["git", "archive", "-o", archive, sha, "taobao_pipeline"], check=True, cwd=ROOT)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    where = subprocess.run(
        [PYTHON, "-c", "import taobao_pipeline as p; print(p.__file__)"],
        env=_env(PYTHONPATH=str(into)),
        cwd=into,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not where.startswith(str(into)):
        sys.exit(f"the code of {rev} is not the one imported: {where}")
    return sha


# --- the report ---------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def table(measured: dict[str, Measured]) -> list[str]:
    cli = measured.get("cli")
    base = _median([r.cpu_seconds for r in cli.contender.runs]) if cli and cli.contender.ok else 0
    lines = [
        "| contender | executor | processes | median wall s | all runs (s) | median CPU s | "
        "least CPU s | all runs (CPU s) | CPU / cli | cores busy | peak RSS | "
        "peak RSS, all processes |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for m in measured.values():
        c = m.contender
        ok = [r for r in c.runs if r.ok]
        wall = _median([r.seconds for r in ok])
        cpu = _median([r.cpu_seconds for r in ok])
        walls = ", ".join(f"{r.seconds:.1f}" if r.ok else f"({r.note})" for r in c.runs)
        cpus = ", ".join(f"{r.cpu_seconds:.1f}" for r in ok)
        least = min((r.cpu_seconds for r in ok), default=0.0)
        procs = sorted({o.processes for o in m.outcomes})
        ratio = f"{cpu / base:.2f}" if base and ok else "-"
        busy = f"{cpu / wall:.2f}" if wall else "-"
        peak = f"{max(r.peak_mb for r in ok) / 1024:.2f} GB" if ok else "-"
        tree = f"{max(m.tree_mb) / 1024:.2f} GB" if m.tree_mb else "-"
        lines.append(
            f"| {m.label} | {m.executor} | {'/'.join(map(str, procs)) or '-'} | {wall:.1f} "
            f"| {walls} | {cpu:.1f} | {least:.1f} | {cpus} | {ratio} | {busy} | {peak} | {tree} |"
        )
    return lines


def agreement(measured: dict[str, Measured]) -> list[str]:
    """Whether every run left the same national_summary row and designated villages."""
    outcomes = [(m.label, o) for m in measured.values() for o in m.outcomes]
    if not outcomes:
        return ["- no run finished"]
    label, first = outcomes[0]
    lines = []
    for other_label, o in outcomes[1:]:
        if o.summary != first.summary:
            diff = {
                k: (v, (o.summary or {}).get(k))
                for k, v in (first.summary or {}).items()
                if (o.summary or {}).get(k) != v
            }
            lines.append(f"- {other_label}: national_summary differs from {label}'s: {diff}")
        if o.villages != first.villages:
            lines.append(f"- {other_label}: designated villages {o.villages} != {first.villages}")
    if lines:
        return lines
    s = first.summary or {}
    shown = ", ".join(f"{k} {v}" for k, v in s.items())
    return [
        f"- all {len(outcomes)} runs left the same national_summary row ({shown}) and the same "
        f"{first.villages[0] if first.villages else 0} designated villages (sha256 of the "
        f"codes {first.villages[1] if first.villages else '-'})"
    ]


def measure(args: argparse.Namespace, names: list[str], scratch: Path) -> dict[str, Measured]:
    """Every contender ``--repeat`` times, the order rotating; a failed run's folder stays."""
    code = scratch / "code"
    args.code_sha = extract(args.code, code)
    raw = args.raw
    if raw is None:
        raw = scratch / "raw"
        print(f"generating edition {args.edition} at scale {args.scale:g} ...", flush=True)
        argv = [CLI, "generate", "--out", raw, "--editions", str(args.edition)]
        env = _env(PYTHONPATH=str(code))
        gen = run_child([*argv, "--scale", str(args.scale)], scratch / "generate.log", env)
        if not gen.ok:
            sys.exit(f"generation failed: {gen.note}")
        print(f"  {gen.seconds:.1f} s", flush=True)
    launches = {
        "launched": Launch("taobao_pipeline.definitions", code),
        "multiprocess": Launch("benchmarks.launched", code, "multiprocess_definitions"),
    }
    measured = {
        "cli": Measured(Contender("cli"), "cli (`taobao-pipeline run`)", "in process"),
        "launched": Measured(Contender("launched"), "launched", "in process"),
        "multiprocess": Measured(
            Contender("multiprocess"), "launched, multiprocess", "multiprocess (default)"
        ),
    }
    if "before" in names:
        sha = extract(args.before, scratch / "before")
        launches["before"] = Launch("taobao_pipeline.definitions", scratch / "before")
        label = f"launched, {args.before} = {sha}"
        measured["before"] = Measured(Contender("before"), label, "multiprocess (default)")
    measured = {n: measured[n] for n in names}
    for i in range(args.repeat):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            m = measured[name]
            work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch))
            m.load.append(os.getloadavg()[0])
            if name == "cli":
                run, tree = run_cli(raw, args.edition, work, code)
            else:
                run, tree = run_launched(raw, args.edition, work, launches[name])
            seen = ""
            if tree is not None:
                seen = (
                    f" (sampled: {len(tree.cpu_seen)} processes, "
                    f"{sum(tree.cpu_seen.values()):.1f} CPU s, {tree.tree_kb / 1024:.0f} MB in all)"
                )
            if run.ok:
                m.outcomes.append(outcome(work, args.edition))
                if tree is not None:
                    m.tree_mb.append(tree.tree_kb / 1024)
            m.contender.runs.append(run)
            print(
                f"  run {i + 1}/{args.repeat} {m.label}: {run.seconds:.1f} s, "
                f"{run.cpu_seconds:.1f} CPU s, {run.peak_mb:.0f} MB{seen}, load "
                f"{m.load[-1]:.2f}{' ' + run.note if run.note else ''}",
                flush=True,
            )
            if run.ok:
                shutil.rmtree(work)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--edition", type=int, default=2022)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--raw", type=Path, help="existing extracts (default: generate them)")
    parser.add_argument("--code", default="HEAD", help="the commit measured (default HEAD)")
    parser.add_argument("--before", default="38714ec~1", help="the code of the 'before' runs")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="a subset, in order")
    args = parser.parse_args()
    names = [n for n in args.contenders.split(",") if n]
    if unknown := set(names) - set(CONTENDERS):
        sys.exit(f"unknown contenders {sorted(unknown)}; choose among {', '.join(CONTENDERS)}")
    load_at_start = os.getloadavg()[0]
    scratch = Path(tempfile.mkdtemp(prefix="taobao-launched-"))
    measured = measure(args, names, scratch)
    info = machine()
    info["taobao-pipeline commit"] = f"{args.code_sha} (--code {args.code})"
    loads = [x for m in measured.values() for x in m.load]
    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M')}, edition {args.edition}, scale {args.scale:g}, "
        f"{args.repeat} repetition(s), command "
        f"`python -m benchmarks.launched {' '.join(sys.argv[1:])}`.",
        "",
        *table(measured),
        "",
        *agreement(measured),
        f"- 1-minute load average at the start of each run: {min(loads):.2f} to "
        f"{max(loads):.2f} ({load_at_start:.2f} before the benchmark)",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
    ]
    print("\n" + "\n".join(lines))
    if any(not r.ok for m in measured.values() for r in m.contender.runs):
        print(f"\nkept {scratch}: a run failed, its folder has the logs")
        sys.exit(1)
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
