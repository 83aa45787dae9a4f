"""Benchmark: the annual run, the whole history and the no-change rerun, against their floors.

    python -m benchmarks.annual [--scales 0.1,0.3,1.0] [--annual 2022] [--repeat 3]
    python -m benchmarks.annual --quick          # a smoke run: scale 0.01, 2 repetitions

Measured in one run, on the project's generated data (cached per scale and seed, as in
``benchmarks.run``), each contender a child process (wall and CPU seconds and peak memory
from ``os.wait4``), contenders alternating within each repetition:

- **annual** (at the largest scale): ``taobao-pipeline run --editions 2022`` into a fresh
  warehouse and ``DAGSTER_HOME``, against the floor (``benchmarks.floor``) for 2022;
- **history** (at every scale): every edition, pipeline against floor;
- **rerun** (at every scale): the same ``run`` again on the history's warehouse, nothing
  changed: it must skip every edition and publish nothing.

Writes its section of ``docs/benchmarks.md`` (``--quick``: a file under ``--cache``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from benchmarks import parse_editions
from benchmarks.run import (
    DOC,
    SECTION_BEGIN,
    SECTION_END,
    Contender,
    Run,
    commit,
    designations_csv,
    ensure_data,
    machine,
    run_pipeline,
    run_script,
)

ALL_EDITIONS = list(range(2009, 2023))


@dataclass
class Measure:
    """One measure at one scale: its contenders (floor first) and their designations."""

    name: str
    scale: str
    editions: list[int]
    contenders: dict[str, Contender]
    designated: dict[str, set[tuple[int, str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _print(m: Measure, name: str, i: int, repeat: int, run: Run) -> None:
    print(
        f"  {m.name} scale {m.scale} run {i + 1}/{repeat} {name}: {run.seconds:.1f} s, "
        f"{run.cpu_seconds:.1f} CPU s, {run.peak_mb:.0f} MB{' ' + run.note if run.note else ''}",
        flush=True,
    )


def _pipeline_designations(work: Path) -> set[tuple[int, str]]:
    with duckdb.connect(str(work / "wh" / "wh.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT edition, village_code FROM taobao_villages").fetchall()
    return {(int(e), str(c)) for e, c in rows}


def _skipped_everything(log: Path) -> bool:
    """The rerun's output names every edition as skipped, and none as run."""
    text = log.read_text(errors="replace")
    return "Skipped (unchanged since published" in text and "\nRunning " not in text


def repetition(measures: list[Measure], raw: Path, i: int, repeat: int) -> None:
    """One repetition of every measure at one scale: floor, pipeline (and rerun)."""
    for m in measures:
        spec = ",".join(map(str, m.editions))
        floor_dir = Path(tempfile.mkdtemp(prefix="taobao-bench-floor-"))
        run = run_script("benchmarks.floor", raw, spec, floor_dir)
        if run.ok:
            m.designated["floor"] = designations_csv(floor_dir / "designated.csv")
            shutil.rmtree(floor_dir)
        m.contenders["floor"].runs.append(run)
        _print(m, "floor", i, repeat, run)
        work = Path(tempfile.mkdtemp(prefix="taobao-bench-pipeline-"))
        run = run_pipeline(raw, spec, work)
        m.contenders["pipeline"].runs.append(run)
        _print(m, "pipeline", i, repeat, run)
        if not run.ok:
            continue  # its directory stays, with its log
        m.designated["pipeline"] = _pipeline_designations(work)
        if "rerun" in m.contenders:
            again = run_pipeline(raw, spec, work, log="rerun.log")
            if again.ok and not _skipped_everything(work / "rerun.log"):
                again.ok, again.note = False, "did not skip every edition"
            m.contenders["rerun"].runs.append(again)
            _print(m, "rerun", i, repeat, again)
            if not again.ok:
                continue
        shutil.rmtree(work)


def _ratio(a: Contender, b: Contender) -> float | None:
    return a.median / b.median if a.ok and b.ok else None


def table(measures: list[Measure]) -> list[str]:
    lines = [
        "| measure | scale | editions | contender | median s | all runs (s) | CPU s | "
        "cores busy | peak memory | ratio | designated |",
        "| --- | ---: | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for m in measures:
        eds = f"{m.editions[0]}-{m.editions[-1]}" if len(m.editions) > 1 else str(m.editions[0])
        for name, c in m.contenders.items():
            base = m.contenders["pipeline" if name == "rerun" else "floor"]
            ratio = _ratio(c, base) if c is not base else 1.0
            over = "first run" if name == "rerun" else "floor"
            shown = f"{ratio:.2f} of {over}" if ratio is not None else "-"
            designated = m.designated.get(name)
            runs = ", ".join(f"{r.seconds:.1f}" + ("" if r.ok else f" ({r.note})") for r in c.runs)
            cpu = statistics.median(r.cpu_seconds for r in c.runs) if c.runs else 0.0
            median = c.median if c.runs else 0.0
            busy = cpu / median if median else 0.0
            peak = c.peak_mb / 1024 if c.runs else 0.0
            lines.append(
                f"| {m.name} | {m.scale} | {eds} | {name} | {median:.1f} | {runs} | {cpu:.1f} "
                f"| {busy:.2f} | {peak:.2f} GB "
                f"| {shown} | {'-' if designated is None else len(designated)} |"
            )
    return lines


def verdicts(measures: list[Measure]) -> list[str]:
    out = []

    def judge(text: str, passed: bool | None) -> None:
        out.append(f"- {text}: **{'n/a' if passed is None else ('PASS' if passed else 'FAIL')}**")

    for m in measures:
        p, f = m.contenders["pipeline"], m.contenders["floor"]
        ratio = _ratio(p, f)
        # the bars: 1.5x the floor at scale 1.0 (annual and history), 2x for the
        # small run (history at 0.1); other scales are shown, not judged
        bar = {1.0: 1.5, 0.1: 2.0 if m.name == "history" else None}.get(float(m.scale))
        if ratio is not None and bar is not None:
            judge(
                f"{m.name} at scale {m.scale}: pipeline / floor = {ratio:.2f} <= {bar}",
                ratio <= bar,
            )
        rerun = m.contenders.get("rerun")
        if rerun is not None:
            share = _ratio(rerun, p)
            if share is not None:
                judge(
                    f"no-change rerun at scale {m.scale}: {rerun.median:.1f} s = {share:.0%} of "
                    f"the first run's {p.median:.1f} s (<= 10%), every edition skipped",
                    share <= 0.10,
                )
            else:
                judge(f"no-change rerun at scale {m.scale} skipped every edition", False)
        if m.name == "history" and p.ok and float(m.scale) == 1.0:
            judge(f"peak memory {p.peak_mb / 1024:.2f} GB <= 3 GB at scale 1.0", p.peak_mb <= 3072)
        a, b = m.designated.get("pipeline"), m.designated.get("floor")
        if a is not None and b is not None:
            m.notes.append(
                f"{m.name} at scale {m.scale}: {len(a)} villages designated by the pipeline, "
                f"{len(b)} by the floor; {len(a ^ b)} differ (rows the contract rejects: see "
                "`benchmarks.run`'s comparison)"
            )
    return out


def cpu_bound(measures: list[Measure]) -> list[str]:
    """The lowest wall time the pipeline's CPU seconds allow on this machine."""
    cores = os.cpu_count() or 1
    lines = []
    for m in measures:
        p, f = m.contenders["pipeline"], m.contenders["floor"]
        if p.ok and f.ok:
            cpu = statistics.median(r.cpu_seconds for r in p.runs)
            lines.append(
                f"- {m.name} at scale {m.scale}: the pipeline used {cpu:.1f} CPU s, so on "
                f"{cores} cores no run goes under {cpu / cores:.1f} s "
                f"({cpu / cores / f.median:.2f} of the floor's {f.median:.1f} s)"
            )
    return lines


def report(args: argparse.Namespace, measures: list[Measure]) -> str:
    info = machine()
    end = commit()
    info["taobao-pipeline commit"] = args.commit + (
        "" if end == args.commit else f" ({end} at the end)"
    )
    lines = [
        SECTION_BEGIN,
        "## The annual run, the whole history and the no-change rerun (issue 16)",
        "",
        "Written by `python -m benchmarks.annual` (see its docstring). The **annual** run is "
        f"`taobao-pipeline run --editions {args.annual}` into a fresh warehouse and "
        "`DAGSTER_HOME`, against the floor script for that edition alone; the **history** is "
        "every edition, against the floor for every edition; the **rerun** is the same "
        "`run` again on the history's warehouse with nothing changed (it must skip every "
        "edition: a rerun that does not counts as failed). Ratio: pipeline over floor, or "
        "rerun over the first run. CPU seconds: user and system time of the child process "
        "and its children.",
        "",
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}, {args.repeat} repetition(s), "
        f"command `{args.command}`.",
        "",
        *verdicts(measures),
        "",
        *table(measures),
        "",
        "CPU time bounds the wall time from below:",
        "",
        *cpu_bound(measures),
        "",
        *[f"- {n}" for m in measures for n in m.notes],
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()) + ".",
        SECTION_END,
    ]
    return "\n".join(lines) + "\n"


def write_section(doc: Path, text: str) -> None:
    """Replace this benchmark's section of ``doc`` (or append it)."""
    old = doc.read_text() if doc.exists() else ""
    if SECTION_BEGIN in old and SECTION_END in old:
        start, end = old.index(SECTION_BEGIN), old.index(SECTION_END) + len(SECTION_END) + 1
        new = old[:start] + text + old[end:]
    else:
        new = old + ("\n" if old else "") + text
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,0.3,1.0")
    parser.add_argument("--annual", type=int, default=2022, help="the annual run's edition")
    parser.add_argument("--editions", type=parse_editions, default=ALL_EDITIONS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/taobao-bench"))
    parser.add_argument("--doc", type=Path, help=f"default {DOC} (--quick: under --cache)")
    parser.add_argument("--quick", action="store_true", help="smoke run: scale 0.01, 2 repetitions")
    args = parser.parse_args()
    if args.quick:
        args.scales, args.repeat = "0.01", min(args.repeat, 2)
    args.doc = args.doc or (args.cache / "annual-quick.md" if args.quick else DOC)
    args.commit = commit()
    args.command = " ".join(["python -m benchmarks.annual", *sys.argv[1:]])
    scales = sorted(float(s) for s in args.scales.split(","))
    measures: list[Measure] = []
    for scale in scales:
        raw = args.cache / f"scale-{scale:g}-seed-{args.seed}"
        if ensure_data(raw, scale, args.seed, args.editions) is None:
            continue
        here = []
        if scale == scales[-1]:
            annual = {n: Contender(n) for n in ("floor", "pipeline")}
            here.append(Measure("annual", f"{scale:g}", [args.annual], annual))
        history = {n: Contender(n) for n in ("floor", "pipeline", "rerun")}
        here.append(Measure("history", f"{scale:g}", args.editions, history))
        print(f"scale {scale:g}: {raw}", flush=True)
        for i in range(args.repeat):
            repetition(here, raw, i, args.repeat)
        measures += here
    if not measures:
        sys.exit("nothing measured")
    text = report(args, measures)
    print(text)
    write_section(args.doc, text)
    print(f"wrote {args.doc}")


if __name__ == "__main__":
    main()
