"""Benchmark: the pipeline against the floor (one DuckDB SQL script) and a pandas script.

    python -m benchmarks.run [--scale 1.0 | --scales 0.1,0.3,1.0] [--editions 2009-2022]
                             [--repeat 3] [--raw DIR] [--skip-pandas] [--pipeline-only]

On the project's generated data (cached per scale and seed; or ``--raw DIR``) each contender
runs ``--repeat`` times as a child process, timed by the wall clock, its peak resident
memory read from ``os.wait4``. The designated (edition, village_code) pairs of the three
are compared edition by edition. Prints a table and writes ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb

from benchmarks import parse_editions
from taobao_pipeline.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
CLI = ROOT / ".venv" / "bin" / "taobao-pipeline"
DOC = ROOT / "docs" / "benchmarks.md"
CONTENDERS = ("pipeline", "floor", "pandas")
GENERATE = (
    "import sys, json; from pathlib import Path; "
    "from taobao_pipeline.generator import generate; "
    "generate(Path(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), "
    "progress=False)"
)


@dataclass
class Run:
    """One child process: wall seconds, peak resident memory, exit status, CPU seconds
    (user and system, of the child and the processes it waited for)."""

    seconds: float
    peak_mb: float
    ok: bool
    note: str = ""
    cpu_seconds: float = 0.0


@dataclass
class Contender:
    """The repetitions of one contender at one scale, and its designations."""

    name: str
    runs: list[Run] = field(default_factory=list)
    designated: set[tuple[int, str]] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.ok for r in self.runs)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)

    @property
    def cpu_median(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)


@dataclass
class ScaleResult:
    """Everything measured at one scale."""

    scale: str
    raw: Path
    generation: dict[str, float]
    contenders: dict[str, Contender]
    rows_read: dict[str, int] = field(default_factory=dict)
    comparison: list[dict[str, object]] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)
    steps: list[tuple[str, float]] = field(default_factory=list)


def run_child(args: list[str | Path], log: Path, env: dict[str, str] | None = None) -> Run:
    """Run a command to completion; its wall time and peak RSS (``ru_maxrss``, KiB)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(a) for a in args], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    note = ""
    if proc.returncode:
        killed = proc.returncode == -9
        note = "killed (out of memory?)" if killed else f"exit code {proc.returncode}"
        tail = log.read_text(errors="replace").splitlines()[-15:]
        print(f"  {args[0]} failed: {note}; see {log}\n    " + "\n    ".join(tail))
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode == 0, note, cpu)


def ensure_data(
    cache: Path, scale: float, seed: int, editions: list[int]
) -> dict[str, float] | None:
    """Generate the extracts into ``cache`` unless they are there; generation figures
    (None when the generator fails)."""
    marker = cache / "bench.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if set(editions) <= set(info["editions"]):
            return {"seconds": info["seconds"], "peak_mb": info["peak_mb"], "cached": 1.0}
    print(f"generating scale {scale} into {cache} ...", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    argv = [PYTHON, "-c", GENERATE, cache, json.dumps(editions), str(scale), str(seed)]
    result = run_child(argv, cache / "generate.log")
    if not result.ok:
        print(f"generation failed at scale {scale}: {result.note}; skipping this scale")
        return None
    info = {"editions": editions, "seconds": result.seconds, "peak_mb": result.peak_mb}
    marker.write_text(json.dumps(info))
    return {"seconds": result.seconds, "peak_mb": result.peak_mb, "cached": 0.0}


def designations_csv(path: Path) -> set[tuple[int, str]]:
    with open(path, newline="") as f:
        return {(int(r["edition"]), r["village_code"]) for r in csv.DictReader(f)}


def run_pipeline(raw: Path, editions: str, work: Path, log: str = "pipeline.log") -> Run:
    """The CLI's run into ``work``'s warehouse, staging dir and Dagster home (fresh, the
    first time: a second call is a rerun into the same warehouse)."""
    home = work / "dagster_home"
    if not home.exists():
        home.mkdir()
        shutil.copy(ROOT / ".dagster_home" / "dagster.yaml", home)  # telemetry off
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAOBAO_")}
    env["DAGSTER_HOME"] = str(home)
    argv = [CLI, "run", "--raw-dir", raw, "--warehouse", work / "wh" / "wh.duckdb"]
    return run_child([*argv, "--editions", editions], work / log, env)


def run_script(module: str, raw: Path, editions: str, work: Path) -> Run:
    argv = [PYTHON, "-m", module, raw, work / "designated.csv", "--editions", editions]
    return run_child(argv, work / f"{module.rsplit('.', 1)[-1]}.log")


def warehouse_figures(work: Path, result: ScaleResult) -> None:
    """The pipeline's designations and rows read, from the warehouse it wrote."""
    with duckdb.connect(str(work / "wh" / "wh.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT edition, village_code FROM taobao_villages").fetchall()
        result.contenders["pipeline"].designated = {(int(e), str(c)) for e, c in rows}
        audit = conn.execute("SELECT source, sum(rows_read) FROM load_audit GROUP BY ALL")
        result.rows_read = {s: int(n) for s, n in audit.fetchall()}


def dagster_steps(work: Path) -> list[tuple[str, float]]:
    """Seconds per step of the Dagster run(s) recorded in the repetition's Dagster home."""
    code = (
        "import json, sys, dagster as dg\n"
        "inst = dg.DagsterInstance.from_config(sys.argv[1])\n"
        "steps = {}\n"
        "for run in inst.get_runs():\n"
        "    for s in inst.get_run_step_stats(run.run_id):\n"
        "        steps[s.step_key] = steps.get(s.step_key, 0) + s.end_time - s.start_time\n"
        "print(json.dumps(steps))\n"
    )
    out = subprocess.run(
        [PYTHON, "-c", code, work / "dagster_home"], capture_output=True, text=True, check=True
    )
    return sorted(json.loads(out.stdout.splitlines()[-1]).items(), key=lambda kv: -kv[1])


EXPLAIN = """
WITH diff(edition, village_code) AS (SELECT * FROM (VALUES {values})),
shop_of AS (  -- accepted shops (staging) and rejected ones: their village
    {accepted_shops}
    UNION ALL
    SELECT edition, record->>'shop_id', record->>'village_code'
    FROM wh.rejected_rows WHERE source = 'shops'
)
SELECT d.edition, d.village_code, r.source, r.reason, count(*) AS n
FROM diff d JOIN wh.rejected_rows r ON r.edition = d.edition
WHERE (r.source IN ('villages', 'shops') AND r.record->>'village_code' = d.village_code)
   OR (r.source = 'revenue' AND r.record->>'shop_id' IN (
        SELECT shop_id FROM shop_of s
        WHERE s.edition = d.edition AND s.village_code = d.village_code))
GROUP BY ALL ORDER BY ALL
"""


def explain(work: Path, diff: set[tuple[int, str]]) -> dict[tuple[int, str], dict[str, int]]:
    """Rejected rows of the pipeline that touch each differing village, by reason."""
    if not diff:
        return {}
    wh = work / "wh"
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{wh / 'wh.duckdb'}' AS wh (READ_ONLY)")
    selects = []
    for edition in sorted({e for e, _ in diff}):
        shops = Warehouse(wh / "wh.duckdb").staging_path(edition) / "shops.parquet"
        selects.append(f"SELECT {edition} AS edition, shop_id, village_code FROM '{shops}'")
    values = ", ".join(f"({e}, '{c}')" for e, c in sorted(diff))
    sql = EXPLAIN.format(values=values, accepted_shops=" UNION ALL ".join(selects))
    found: dict[tuple[int, str], dict[str, int]] = {}
    for edition, code, source, reason, n in conn.execute(sql).fetchall():
        reason = re.sub(r" \d{4}-\d{2}\.\.\d{4}-\d{2}", "", reason)  # the edition's window
        key = f"{source}: {reason}"
        found.setdefault((edition, code), {})[key] = found.get((edition, code), {}).get(key, 0) + n
    conn.close()
    return found


def compare(result: ScaleResult, editions: list[int], work: Path) -> None:
    """Designated counts per edition, and every village the contenders disagree on."""
    pipeline = result.contenders["pipeline"].designated or set()
    others = {n: c.designated for n, c in result.contenders.items() if n != "pipeline"}
    for edition in editions:
        row: dict[str, object] = {"edition": edition}
        for name, c in result.contenders.items():
            row[name] = None if c.designated is None else sum(e == edition for e, _ in c.designated)
        result.comparison.append(row)
    # (village, the contenders that disagree with the pipeline, extra or missing) -> editions
    groups: dict[tuple[str, str, bool], list[int]] = {}
    for edition, code in sorted(set().union(*(pipeline ^ d for d in others.values() if d))):
        extra = (edition, code) not in pipeline  # they designate it, the pipeline does not
        names = [n for n, d in others.items() if d is not None and ((edition, code) in d) == extra]
        groups.setdefault((code, " and ".join(names), extra), []).append(edition)
    try:
        reasons = explain(work, {(e, c) for (c, _, _), eds in groups.items() for e in eds})
    except duckdb.Error as e:  # the staging layout is the pipeline's business: degrade
        print(f"  could not explain the differences: {e}")
        reasons = {}
    for (code, names, extra), eds in sorted(groups.items(), key=lambda g: (g[1][0], g[0])):
        why: dict[str, int] = {}
        for edition in eds:
            for reason, n in reasons.get((edition, code), {}).items():
                why[reason] = why.get(reason, 0) + n
        result.differences.append(
            {"village": code, "editions": eds, "contenders": names, "extra": extra, "why": why}
        )


def measure(args: argparse.Namespace, scale: str, raw: Path, gen: dict[str, float]) -> ScaleResult:
    """Every contender ``--repeat`` times at one scale, then the comparison."""
    editions = ",".join(str(e) for e in args.editions)
    result = ScaleResult(scale, raw, gen, {n: Contender(n) for n in args.contenders})
    kept: Path | None = None  # the last successful pipeline repetition, for its figures
    for i in range(args.repeat):
        for name in args.contenders:
            work = Path(tempfile.mkdtemp(prefix=f"taobao-bench-{name}-"))
            if name == "pipeline":
                run = run_pipeline(raw, editions, work)
            else:
                module = "benchmarks.floor" if name == "floor" else "benchmarks.pandas_script"
                run = run_script(module, raw, editions, work)
                if run.ok:
                    result.contenders[name].designated = designations_csv(work / "designated.csv")
            if name == "pipeline" and run.ok:
                if kept:
                    shutil.rmtree(kept)
                kept = work
            elif run.ok:
                shutil.rmtree(work)  # a failed run's directory stays, with its log
            result.contenders[name].runs.append(run)
            print(
                f"  scale {scale} run {i + 1}/{args.repeat} {name}: {run.seconds:.1f} s, "
                f"{run.peak_mb:.0f} MB, {run.cpu_seconds:.1f} CPU s"
                f"{' ' + run.note if run.note else ''}",
                flush=True,
            )
    if kept:
        try:
            warehouse_figures(kept, result)
            result.steps = dagster_steps(kept)
            if len(result.contenders) > 1:
                compare(result, args.editions, kept)
        finally:
            shutil.rmtree(kept)
    return result


def profile(raw: Path, editions: list[int]) -> dict[str, list[float]]:
    """The library profile (benchmarks.profile) in a child process: stage -> [wall, CPU]."""
    with tempfile.TemporaryDirectory(prefix="taobao-bench-profile-") as tmp:
        spec = ",".join(map(str, editions))
        out = subprocess.run(
            [PYTHON, "-m", "benchmarks.profile", raw, tmp, "--editions", spec],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
    return json.loads(out.stdout.splitlines()[-1])


def machine() -> dict[str, str]:
    """Cores, memory, CPU model and the versions that matter."""
    meminfo = Path("/proc/meminfo").read_text().split()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cores": str(os.cpu_count()),
        "memory": f"{int(meminfo[meminfo.index('MemTotal:') + 1]) / 2**20:.1f} GiB",
        "CPU": cpu,
        "OS": platform.platform(),
        "Python": platform.python_version(),
        **{p: _version(p) for p in ("duckdb", "polars", "pandas", "pandera", "dagster")},
    }


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # pandas: only the pandas contender needs it
        return "not installed"


def commit() -> str:
    """The project's commit (``-dirty`` with uncommitted changes): the code measured."""
    out = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT
    )
    return out.stdout.strip() or "unknown"


# --- the report -------------------------------------------------------------------------


def _fmt_runs(c: Contender) -> str:
    return ", ".join(f"{r.seconds:.1f}" + ("" if r.ok else f" ({r.note})") for r in c.runs)


def results_table(r: ScaleResult) -> list[str]:
    floor = r.contenders.get("floor")
    lines = [
        "| contender | median s | all runs (s) | / floor | peak memory | CPU s | cores busy "
        "| designated |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in r.contenders.values():
        ratio = f"{c.median / floor.median:.2f}" if floor and floor.ok and c.ok else "-"
        count = "-" if c.designated is None else str(len(c.designated))
        lines.append(
            f"| {c.name} | {c.median:.1f} | {_fmt_runs(c)} | {ratio} | "
            f"{c.peak_mb / 1024:.2f} GB | {c.cpu_median:.1f} | {c.cpu_median / c.median:.2f} "
            f"| {count} |"
        )
    return lines


def cpu_bound(r: ScaleResult) -> list[str]:
    """What the pipeline's CPU time allows on this machine's cores, against the 5x bar."""
    p, pd_ = r.contenders.get("pipeline"), r.contenders.get("pandas")
    if not (p and p.ok and pd_ and pd_.ok):
        return []
    cores = os.cpu_count() or 1
    least = p.cpu_median / cores
    target = pd_.median / 5
    lines = [
        f"CPU time bounds the wall time from below: the pipeline's runs used "
        f"{p.cpu_median:.1f} CPU s (median), so on {cores} cores no scheduling brings a run "
        f"under {least:.1f} s; its cores were busy {p.cpu_median / p.median / cores:.0%} of "
        f"the time. 5x pandas means {target:.1f} s"
    ]
    if least > target:
        lines[0] += (
            f": the pipeline's CPU work would have to shrink by at least "
            f"{1 - target * cores / p.cpu_median:.0%}, with every core busy throughout."
        )
    else:
        lines[0] += ", within what the CPU work allows."
    return [*lines, ""]


def _editions(eds: list[int]) -> str:
    return (
        f"{eds[0]}-{eds[-1]}"
        if eds == list(range(eds[0], eds[-1] + 1)) and len(eds) > 1
        else (", ".join(map(str, eds)))
    )


def comparison_lines(r: ScaleResult, limit: int = 40) -> list[str]:
    names = list(r.contenders)
    lines = [
        "| edition | " + " | ".join(f"{n} designated" for n in names) + " | equal |",
        "| --- | " + " | ".join("---:" for _ in names) + " | --- |",
    ]
    for row in r.comparison:
        counts = [("-" if row[n] is None else str(row[n])) for n in names]
        differs = any(row["edition"] in d["editions"] for d in r.differences)
        equal = "n/a" if None in (row[n] for n in names) else ("no" if differs else "yes")
        lines.append(f"| {row['edition']} | " + " | ".join(counts) + f" | {equal} |")
    if r.differences:
        explained = all(d["extra"] and d["why"] for d in r.differences)
        lines += [
            "",
            "Every difference is a village the contenders without validation designate and the "
            "pipeline does not, touched by rows the contract rejects: those rows tip it over a "
            "threshold for them (the generator plants such traps at near-miss villages)."
            if explained
            else "Not every difference is explained by rows the pipeline rejected: see below.",
            "",
            f"{len(r.differences)} village(s) differ; for each, the rows the pipeline rejected "
            "that touch it (the village's register row, its shops, its shops' sales), summed "
            "over the editions shown:",
            "",
        ]
    for d in r.differences[:limit]:
        why = "; ".join(f"{k} ({n})" for k, n in sorted(d["why"].items(), key=lambda x: -x[1]))
        where = f"- `{d['village']}`, {_editions(d['editions'])}"
        if d["extra"]:
            lines.append(f"{where}: designated by {d['contenders']}, not by the pipeline")
        else:
            lines.append(f"{where}: designated by the pipeline, not by {d['contenders']}")
        lines[-1] += f". Rejected rows: {why or 'none'}."
    if len(r.differences) > limit:
        lines.append(f"- ... and {len(r.differences) - limit} more.")
    return lines


def verdicts(results: list[ScaleResult]) -> list[str]:
    """The issue's bar, judged on these figures."""
    main = results[-1]
    c = main.contenders
    out = []

    def judge(text: str, passed: bool | None) -> None:
        mark = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        out.append(f"- {text}: **{mark}**")

    p, f, pd_ = c.get("pipeline"), c.get("floor"), c.get("pandas")
    if p and f and p.ok and f.ok:
        ratio = p.median / f.median
        judge(f"pipeline / floor = {ratio:.2f} <= 2.0 (aim 1.3), scale {main.scale}", ratio <= 2.0)
    if p and pd_ and p.ok:
        if pd_.ok:
            speedup = pd_.median / p.median
            judge(f"pipeline {speedup:.2f}x as fast as pandas (bar: >= 5x)", speedup >= 5)
        else:
            judge("pandas failed where the pipeline did not", True)
    if p and p.ok:
        gb = p.peak_mb / 1024
        judge(f"pipeline peak memory {gb:.2f} GB <= 6 GB at scale {main.scale}", gb <= 6)
        gen = main.generation["seconds"]
        judge(
            f"generate ({gen:.0f} s) + run ({p.median:.0f} s) = {gen + p.median:.0f} s "
            f"<= 300 s at scale {main.scale}",
            gen + p.median <= 300 if gen else None,  # None: --raw, not generated
        )
    ok = [r for r in results if "pipeline" in r.contenders and r.contenders["pipeline"].ok]
    if len(ok) > 1:
        a, b = ok[0], ok[-1]
        growth = b.contenders["pipeline"].peak_mb / a.contenders["pipeline"].peak_mb
        factor = float(b.scale) / float(a.scale)
        judge(
            f"pipeline memory x{growth:.1f} for scale x{factor:g}: less than linear",
            growth < factor,
        )
    return out


def report(
    args: argparse.Namespace, results: list[ScaleResult], prof: dict[str, list[float]]
) -> str:
    main = results[-1]
    info = machine()
    end = commit()
    info["taobao-pipeline commit"] = args.commit + (
        "" if end == args.commit else f" ({end} at the end)"
    )
    lines = [
        "# Benchmarks",
        "",
        "The pipeline (the CLI's full run of every edition through Dagster: ingest with Pandera "
        "validation, rejected rows and audit, DuckDB computation, asset checks, atomic publish) "
        "against two contenders that compute the same designations and nothing else:",
        "",
        "- **floor**: one hand-written DuckDB SQL script, `benchmarks/floor.sql`, over the raw "
        "files read with `read_csv`/`read_parquet` (run by `benchmarks/floor.py`);",
        "- **pandas**: the straightforward analyst's script, `benchmarks/pandas_script.py` "
        "(read each edition's files, merge, group by).",
        "",
        "Neither validates anything. Both are robust the plain way: values that do not parse "
        "(`TRY_CAST`, `errors='coerce'`) drop their row, identical copies count once, only the "
        "edition's 12 months are read, shops and sales join by key. So rows the contract "
        "rejects for other reasons (a conflicting repeat, an unknown platform, a closing date "
        "before the opening, negative orders, ...) count for them and not for the pipeline: "
        "the comparison below lists every village where that changes a designation.",
        "",
        "GB18030 CSV: DuckDB reads only UTF-8, UTF-16 and Latin-1 without its `encodings` "
        "extension, which cannot be installed here (no internet; `INSTALL encodings` fails), "
        "and its Latin-1 reader refuses these files. So `floor.py` hands the CSV files whose "
        "first MiB is not UTF-8 to polars (`encoding='utf8-lossy'`, only the needed columns) "
        "and registers them in DuckDB; every other file is read by the SQL script itself. The "
        "lossy decoding garbles only names, which the floor does not use. This Python read is "
        "inside the floor's time.",
        "",
        "What was changed for speed, what each change measured, and what is left: "
        "`docs/performance.md`.",
        "",
        "## How to run",
        "",
        "```bash",
        ".venv/bin/pip install pandas   # the `bench` extra",
        ".venv/bin/python -m benchmarks.run [--scale 1.0] [--editions 2009-2022] [--repeat 3] "
        "[--raw DIR] [--skip-pandas]",
        ".venv/bin/python -m benchmarks.run --scales 0.1,0.3,1.0 --pipeline-only --repeat 1",
        ".venv/bin/python -m benchmarks.annual [--scales 0.1,0.3,1.0] [--repeat 3]   "
        "# issue 16, below",
        ".venv/bin/python -m benchmarks.annual --quick                              "
        "# smoke: scale 0.01",
        ".venv/bin/python -m benchmarks.publish WAREHOUSE [--editions 2022,2009]     "
        "# one edition's publish",
        "```",
        "",
        "`benchmarks.annual` measures the annual run (2022) and the whole history against their "
        "floors, and the no-change rerun against the first run; it writes its own section at "
        "the end of this page, which `benchmarks.run` keeps when it rewrites the rest.",
        "",
        "Without `--raw`, the data is generated once per scale and seed with "
        "`taobao_pipeline.generator.generate` into `--cache` (default `/tmp/taobao-bench`; "
        "delete it to regenerate after the generator changes). "
        "Each repetition runs each contender as a child process in a fresh temporary "
        "directory (the pipeline with a fresh warehouse, staging dir and `DAGSTER_HOME`); "
        "seconds are wall-clock, peak memory is the child's `ru_maxrss` from `os.wait4`, "
        "CPU seconds its user and system time from the same call (cores busy: CPU seconds "
        "over wall seconds). "
        "Contenders alternate within each repetition, so a busy machine slows all of them. "
        "DuckDB (pipeline and floor) may use up to 80% of RAM (its default `memory_limit`) "
        "before spilling, so a DuckDB peak says what it took, not what it needed.",
        "",
        "## The bar (issue 5)",
        "",
        "- pipeline / floor <= 2.0 at scale 1.0 (aim: 1.3);",
        "- pipeline >= 5x faster than pandas (or pandas runs out of memory where the pipeline "
        "does not);",
        "- pipeline peak memory <= 6 GB at scale 1.0, growing less than linearly with scale;",
        "- the README's main command (generate + run all editions) within 5 minutes on 2 cores.",
        "",
        f"Measured here (scale {main.scale}; the bar is set at scale 1.0):",
        "",
        *verdicts(results),
        "",
        f"## Results: scale {main.scale}",
        "",
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, editions {args.editions[0]}-"
        f"{args.editions[-1]} ({len(args.editions)}), {args.repeat} repetition(s), "
        f"raw data `{main.raw}`. Command: `{args.command}`.",
        "",
        "Rows read (all editions, as the pipeline's `load_audit` counts them): "
        + ", ".join(f"{s} {n:,}" for s, n in sorted(main.rows_read.items())),
        "",
        *results_table(main),
        "",
        *cpu_bound(main),
        f"Generating the data: {main.generation['seconds']:.0f} s, peak "
        f"{main.generation['peak_mb'] / 1024:.2f} GB"
        + (
            " (measured when it was generated into the cache)."
            if main.generation["cached"]
            else "."
        ),
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
        "### Equality of the designations",
        "",
        *comparison_lines(main),
    ]
    if len(results) > 1:
        names = list(main.contenders)
        lines += [
            "",
            "## Memory and time by scale",
            "",
            "| scale | revenue rows | " + " | ".join(f"{n} s | {n} peak" for n in names) + " |",
            "| ---: | ---: | " + " | ".join("---: | ---:" for _ in names) + " |",
        ]
        for r in results:
            cells = [
                f"{c.median:.1f} | {c.peak_mb / 1024:.2f} GB" if c.ok else "failed | -"
                for c in r.contenders.values()
            ]
            rows = r.rows_read.get("revenue")
            lines.append(f"| {r.scale} | {rows:,} | " if rows else f"| {r.scale} | - | ")
            lines[-1] += " | ".join(cells) + " |"
    lines += where_time_goes(main, prof)
    return "\n".join(lines) + "\n"


STAGES = {  # Dagster step -> stage of the asset graph; any other step is an asset check
    "ingest_extracts": "staged inputs",
    "designate_and_publish": "designations (compute, checks, publish)",
    "import_official_lists": "official lists",
}
STAGE_ORDER = (*STAGES.values(), "asset checks")


def where_time_goes(r: ScaleResult, prof: dict[str, list[float]]) -> list[str]:
    lines = ["", f"## Where the time goes (scale {r.scale})", ""]
    p = r.contenders.get("pipeline")
    if r.steps and p:
        wall = p.runs[-1].seconds
        total = sum(s for _, s in r.steps)
        by_stage: dict[str, list[tuple[str, float]]] = {stage: [] for stage in STAGE_ORDER}
        for step, seconds in r.steps:
            by_stage[STAGES.get(step, "asset checks")].append((step, seconds))
        lines += [
            f"One CLI run ({wall:.1f} s wall) by the steps of its Dagster run, from the run's "
            "event log (each step covers every edition: single-run backfill):",
            "",
            "| stage | steps | seconds | share of wall time |",
            "| --- | --- | ---: | ---: |",
        ]
        for stage, steps in by_stage.items():
            seconds = sum(s for _, s in steps)
            detail = ", ".join(f"{k} {s:.1f}" for k, s in steps)
            lines.append(f"| {stage} | {detail} | {seconds:.1f} | {seconds / wall:.0%} |")
        lines += [
            f"| outside the steps | CLI start and imports, run set-up, national summary "
            f"printout | {wall - total:.1f} | {(wall - total) / wall:.0%} |",
            "",
        ]
    if prof:
        whole = [k for k in prof if ":" not in k or k.endswith("total")]
        total, total_cpu = (sum(prof[k][i] for k in whole) for i in (0, 1))
        lines += [
            "The same work through the library directly, in one process "
            "(`benchmarks/profile.py`: `ingest` per source split into reading and judging "
            "the batches, whole-source rules in SQL and staging, `designations.compute` per "
            "table, "
            "`Warehouse.publish`; no Dagster, no asset checks, no metadata, one staging "
            f"folder per edition): {total:.1f} s in all"
            + (f", against {p.runs[-1].seconds:.1f} s for the CLI run above." if p else "."),
            "",
            "| stage | seconds | share | CPU seconds | cores busy |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for stage, (seconds, cpu) in prof.items():
            if stage.endswith(": total"):  # what ingest does besides reading and validating
                source = stage.removesuffix(": total")
                parts = [
                    f"{source}: read files",
                    f"{source}: validate (Pandera rules, repeats, audit)",
                ]
                stage = f"{source}: staging"
                seconds -= sum(prof[k][0] for k in parts if k in prof)
                cpu -= sum(prof[k][1] for k in parts if k in prof)
            busy = f"{cpu / seconds:.2f}" if seconds > 0 else "-"
            lines.append(
                f"| {stage} | {seconds:.1f} | {seconds / total:.0%} | {cpu:.1f} | {busy} |"
            )
        lines.append(
            f"| *total* | {total:.1f} | 100% | {total_cpu:.1f} | {total_cpu / total:.2f} |"
        )
    return lines


SECTION_BEGIN = "<!-- benchmarks.annual: begin -->"
SECTION_END = "<!-- benchmarks.annual: end -->"


# the sections other benchmarks write into the doc, each between its two markers
OTHER_SECTIONS = re.compile(
    r"<!-- benchmarks\.(\w+): begin -->.*?<!-- benchmarks\.\1: end -->", re.DOTALL
)


def section(doc: str) -> str:
    """The parts of ``doc`` that other benchmarks (``benchmarks.annual``,
    ``benchmarks.launched``) wrote, each between its markers (empty if none)."""
    found = [m.group(0) for m in OTHER_SECTIONS.finditer(doc)]
    return "\n\n".join(found) + "\n" if found else ""


def print_summary(results: list[ScaleResult]) -> None:
    for r in results:
        print(f"\nscale {r.scale}: rows read {r.rows_read}")
        print("\n".join(results_table(r)))
        if r.comparison:
            print("\n".join(comparison_lines(r)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scales", help="e.g. 0.1,0.3,1.0: memory and time by scale")
    parser.add_argument("--editions", type=parse_editions, default=list(range(2009, 2023)))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--raw", type=Path, help="use these extracts instead of generating")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/taobao-bench"))
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--pipeline-only", action="store_true")
    parser.add_argument("--no-profile", action="store_true", help="skip the library profile")
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args()
    args.commit = commit()
    args.command = " ".join(["python -m benchmarks.run", *sys.argv[1:]])
    args.contenders = [
        c
        for c in CONTENDERS
        if not (args.pipeline_only and c != "pipeline") and not (args.skip_pandas and c == "pandas")
    ]
    scales = [float(s) for s in args.scales.split(",")] if args.scales else [args.scale]
    if args.raw and len(scales) > 1:
        parser.error("--raw gives one data set: use --scale, not --scales")
    results = []
    for scale in scales:
        if args.raw:
            raw, gen = args.raw.resolve(), {"seconds": 0.0, "peak_mb": 0.0, "cached": 1.0}
        else:
            raw = args.cache / f"scale-{scale:g}-seed-{args.seed}"
            gen = ensure_data(raw, scale, args.seed, args.editions)
            if gen is None:
                continue
        print(f"scale {scale:g}: {raw}", flush=True)
        results.append(measure(args, f"{scale:g}", raw, gen))
    if not results:
        sys.exit("nothing measured")
    prof = {} if args.no_profile else profile(results[-1].raw, args.editions)
    print_summary(results)
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    # the section of benchmarks.annual, if any, stays
    kept = section(args.doc.read_text()) if args.doc.exists() else ""
    args.doc.write_text(report(args, results, prof) + (f"\n{kept}" if kept else ""))
    print(f"\nwrote {args.doc}")


if __name__ == "__main__":
    main()
