"""Benchmark: the README's range run, this code against an earlier commit's (issue 29).

    python -m benchmarks.range_run [--editions 2018-2022] [--scale 1.0] [--repeat 3]
                                   [--before REV]

The same generated extracts (cached per scale, as in ``benchmarks.run``) run by
``taobao-pipeline run --editions FIRST-LAST --force`` into a fresh warehouse and
``DAGSTER_HOME`` (SQLite, as ``./run.sh``), with this checkout's package and with the
package of ``--before`` (``git archive``, first on PYTHONPATH), alternating within each
repetition; each a child process (wall and CPU seconds, peak memory from ``os.wait4``).
Judged: this code's median within 5% of the earlier one's, in wall and in CPU seconds.
Prints a markdown section for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.launched import _env, extract
from benchmarks.run import CLI, Run, ensure_data, run_child

BAR = 1.05


def one(raw: Path, editions: str, work: Path, code: Path | None) -> Run:
    """A range run of ``code``'s package (None: this checkout's) in a fresh ``work``."""
    work.mkdir()
    (work / "home").mkdir()
    (work / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = _env(DAGSTER_HOME=str(work / "home"), **({"PYTHONPATH": str(code)} if code else {}))
    argv = [CLI, "run", "--raw-dir", raw, "--warehouse", work / "wh" / "wh.duckdb"]
    return run_child([*argv, "--editions", editions, "--force"], work / "cli.log", env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editions", default="2018-2022")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--before", default="1b7341e")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "tb-bench")
    args = parser.parse_args()
    first, last = (int(y) for y in args.editions.split("-"))
    raw = args.cache / f"range-scale-{args.scale}-seed-{args.seed}"
    if ensure_data(raw, args.scale, args.seed, list(range(first, last + 1))) is None:
        sys.exit("the generator failed")
    runs: dict[str, list[Run]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as scratch:
        before = Path(scratch) / "before"
        sha = extract(args.before, before)
        for i in range(args.repeat):
            for name, code in (("before", before), ("after", None)):
                run = one(raw, args.editions, Path(scratch) / f"{name}-{i}", code)
                if not run.ok:
                    sys.exit(f"{name} failed: {run.note}")
                runs[name].append(run)
                print(f"  {name} {i + 1}: {run.seconds:.1f} s, {run.cpu_seconds:.1f} CPU s")
    wall = {n: statistics.median(r.seconds for r in rs) for n, rs in runs.items()}
    cpu = {n: statistics.median(r.cpu_seconds for r in rs) for n, rs in runs.items()}
    peak = {n: max(r.peak_mb for r in rs) for n, rs in runs.items()}
    print(f"\n### Range run {args.editions} at scale {args.scale}: {sha} against this code\n")
    print(f"Medians of {args.repeat}, alternating in one run; bar: {BAR:.2f}x the earlier.\n")
    print("| figure | before | after | ratio | bar |")
    print("| --- | ---: | ---: | ---: | --- |")
    for label, figures, unit in (("wall", wall, "s"), ("CPU", cpu, "s"), ("peak", peak, "MB")):
        ratio = figures["after"] / figures["before"]
        verdict = "" if label == "peak" else ("met" if ratio <= BAR else "not met")
        print(
            f"| {label} | {figures['before']:.1f} {unit} | {figures['after']:.1f} {unit} "
            f"| {ratio:.3f} | {verdict} |"
        )


if __name__ == "__main__":
    main()
