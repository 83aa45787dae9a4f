"""Where a CLI run's wall and CPU seconds go, phase by phase, measured inside the run.

    python benchmarks/phases.py OUT.json -- run --raw-dir RAW --warehouse WH --editions 2022

runs the ``taobao-pipeline`` command (``taobao_pipeline.cli``, as its console script does)
with those arguments in this process, beside a sampler thread. Run by its path, it imports
the package first on ``PYTHONPATH``: so ``benchmarks.annual --before REV`` times an earlier
commit's code.

Every ``INTERVAL`` the sampler reads the Python stacks of the process's threads, names the
phase the run is in (``PHASES``: that of the innermost frame of the main thread's stack that
matches one; when the main thread only waits for others, that of theirs), and charges it
the wall seconds and the process's CPU seconds (every thread's, native ones included:
polars and DuckDB work in threads of their own) since the sample before. The imports of the
command are timed the same way. Writes ``{phase: [wall s, CPU s]}`` to ``OUT.json`` (the
changes of phase in time to ``OUT.timeline.json``, the most resident memory seen in each
phase, in bytes, to ``OUT.rss.json``) as the process exits; the interpreter's
start and teardown lie outside (``benchmarks.annual`` takes them from the child's totals).
The sampler holds the GIL some 20 µs a sample: a sampled run took about 3% longer than the
same command alone. It also keeps the run's frames alive a moment longer, so a sampled
run's peak memory is not the command's (3.2 to 3.9 GB against 2.2 GB for 2022 at 1.0);
``PHASES_INTERVAL=0.05`` samples less often, for memory by phase nearer the command's.

Phases are named by the files and functions of the package, so a renamed function shows as
"CLI and other" until ``PHASES`` follows it.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

INTERVAL = float(os.environ.get("PHASES_INTERVAL", "0.002"))  # seconds between samples
PAGE = os.sysconf("SC_PAGE_SIZE")
DETAIL = os.environ.get("PHASES_DETAIL", "").split(",")  # phases whose stacks to count
# (phase, patterns): a stack is in the phase of its innermost frame ("file:line function")
# that holds one of the patterns
PHASES: list[tuple[str, tuple[str, ...]]] = [
    ("imports", ("<frozen importlib._bootstrap>",)),
    ("report", ("taobao_pipeline/report/",)),
    ("reading the files", ("extracts.py", "ingest_source.<locals>", " _read_and_judge")),
    ("Pandera row rules", ("_rule_failures", "row_rules.py", "/pandera/")),
    ("whole-source rules in SQL", (" judge_whole",)),
    ("validation outside Pandera", ("taobao_pipeline/validation.py",)),
    # bbc2c0d and before staged the sales inline, at line 70 of ingest.py
    ("SQL aggregation of shop sales", ("_stage_sales", "_oversized_sales", "ingest.py:70 ")),
    ("staging the judged rows", ("ingest.py",)),
    ("staging writes", ("staging.py",)),
    ("SQL compute", ("computations.py",)),
    ("asset checks", ("defs/checks.py", "restated_rules.py")),
    ("publish", ("warehouse.py", "reconciliation.py", "official_lists_storage.py")),
    ("plan (hashes of the inputs)", ("fingerprints.py",)),
    ("event storage", ("/storage/", "sqlite")),
    ("Dagster machinery", ("/dagster/",)),
]
# layers called from several phases: their caller's phase, if any
GENERIC = ("staging writes", "Dagster machinery")
WAITING = ("threading.py", "concurrent/futures")


def _frames(frame) -> list[str]:
    out = []
    while frame is not None:
        code = frame.f_code
        out.append(f"{code.co_filename}:{frame.f_lineno} {code.co_qualname}")
        frame = frame.f_back
    return out


def _resident() -> int:
    """The process's resident memory in bytes (Linux: /proc/self/statm)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return 0


def classify(frames: list[str]) -> str | None:
    """The phase of one thread's stack (innermost first), or None if it only waits."""
    fallback = None
    for frame in frames:
        for phase, patterns in PHASES:
            if any(p in frame for p in patterns):
                if phase not in GENERIC:
                    return phase
                fallback = fallback or phase  # the phase of the caller, if it has one
                break
    waiting = bool(frames) and any(w in frames[0] for w in WAITING)
    if waiting and fallback in (None, "Dagster machinery"):
        return None  # the step waits for its pool: what the pool does is the phase
    return fallback or "CLI and other"


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seconds: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.main = threading.main_thread().ident
        self.done = threading.Event()
        self.detail: Counter[str] = Counter()
        self.timeline: list[tuple[float, str]] = []  # (seconds since the start, new phase)
        self.peak: dict[str, int] = defaultdict(int)  # phase -> most resident bytes seen in it

    def phase(self) -> str:
        stacks = sys._current_frames()
        mine = classify(_frames(stacks.get(self.main)))
        if mine is not None:
            return mine
        # the main thread waits for a pool of the run's: the phase is what its workers do
        others = [
            classify(_frames(f))
            for ident, f in stacks.items()
            if ident not in (self.main, self.ident)
        ]
        busy = [p for p in others if p is not None]
        return max(set(busy), key=busy.count) if busy else "waiting"

    def run(self) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.start, self.last = wall, ""
        while not self.done.is_set():
            time.sleep(INTERVAL)
            phase = self.phase()
            if phase in DETAIL:
                frames = _frames(sys._current_frames().get(self.main))
                ours = [f for f in frames if "taobao_pipeline/" in f][:3]
                where = " < ".join(f.split("taobao_pipeline/")[1] for f in ours)
                self.detail[f"{phase}: {where}"] += 1
            now, now_cpu = time.perf_counter(), time.process_time()
            self.peak[phase] = max(self.peak[phase], _resident())
            if phase != self.last:
                self.timeline.append((round(now - self.start, 3), phase))
                self.last = phase
            self.seconds[phase][0] += now - wall
            self.seconds[phase][1] += now_cpu - cpu
            wall, cpu = now, now_cpu


def main() -> None:
    out, rest = Path(sys.argv[1]), sys.argv[2:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    sampler = Sampler()

    def write() -> None:  # at exit: the command may end by os._exit after the exit handlers
        sampler.done.set()
        sampler.join()
        out.write_text(json.dumps(dict(sampler.seconds), indent=1))
        out.with_suffix(".timeline.json").write_text(json.dumps(sampler.timeline))
        out.with_suffix(".rss.json").write_text(json.dumps(dict(sampler.peak), indent=1))
        for where, n in sampler.detail.most_common(40):
            print(f"{n * INTERVAL:6.2f} {where}", file=sys.stderr)

    atexit.register(write)
    sampler.start()
    from taobao_pipeline import cli

    # as the console script runs it: its own exit, where the version has one
    sys.argv = ["taobao-pipeline", *rest]
    entry = getattr(cli, "entry", None)
    if entry is not None:
        entry()
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
