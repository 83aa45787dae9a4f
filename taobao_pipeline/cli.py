"""The ``taobao-pipeline`` command: run editions through Dagster, query the warehouse."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import polars as pl

from taobao_pipeline.defaults import DEFAULT_RAW_DIR, DEFAULT_RELEASE, DEFAULT_WAREHOUSE
from taobao_pipeline.errors import describe
from taobao_pipeline.extracts import editions_in
from taobao_pipeline.rules import Rules
from taobao_pipeline.warehouse import Warehouse


def parse_editions(text: str) -> list[int]:
    """``2019,2020`` or ``2014-2020`` (or a mix: ``2009,2013-2016``) as sorted years."""
    years: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an edition or range: {part!r}") from None
        if lo > hi:
            raise argparse.ArgumentTypeError(f"empty range: {part!r}")
        years.update(range(lo, hi + 1))
    return sorted(years)


def _print_frame(frame: pl.DataFrame) -> None:
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        fmt_str_lengths=80,
        tbl_width_chars=1000,  # --wide: every column of national_summary, never elided
        thousands_separator=False,
    ):
        print(frame)


# the instance a command-line run creates: Dagster's telemetry off (README: Telemetry)
INSTANCE_CONFIG = """\
# Dagster instance made by taobao-pipeline: run history, schedules and sensor cursors.
telemetry:
  enabled: false
"""


def _dagster_home() -> Path | None:
    """``DAGSTER_HOME`` (./run.sh sets .dagster_home), given a dagster.yaml that turns
    telemetry off when it has none; None without it (the run's instance is a throwaway)."""
    if not os.environ.get("DAGSTER_HOME"):
        return None
    home = Path(os.environ["DAGSTER_HOME"]).absolute()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(INSTANCE_CONFIG)
    return home


def _rules_file(path: str) -> Rules:
    """The rules of a TOML file (``--rules``): the contract's, but for the fields it gives."""
    import tomllib

    try:
        with open(path, "rb") as f:
            return Rules.from_values(tomllib.load(f))
    except (OSError, tomllib.TOMLDecodeError, ValueError, TypeError) as e:
        raise argparse.ArgumentTypeError(f"{path}: {e}") from None


def cmd_run(args: argparse.Namespace) -> int:
    started = time.monotonic()  # what the person waits for includes loading Dagster
    from taobao_pipeline.fingerprints import plan
    from taobao_pipeline.summary import run_summary

    raw_dir, warehouse = Path(args.raw_dir), Path(args.warehouse)
    editions = args.editions or editions_in(raw_dir)
    if not editions:
        print(f"error: no edition folders (e.g. {raw_dir}/2020/) under {raw_dir}", file=sys.stderr)
        return 2
    Warehouse(args.warehouse).remove_leftovers()  # even if every edition is skipped
    # editions unchanged since published (files, rules, code) are not computed again
    # the contract's rules (the definitions' RulesResource: a unit test), or --rules'
    rules = args.rules or Rules()
    todo = plan(raw_dir, warehouse, editions, rules, args.force)
    for line in todo.describe():
        print(line)
    home = _dagster_home()
    runs = 0
    if todo.run:  # Dagster is loaded only now: a run that skips every edition does without
        from taobao_pipeline.runner import RunFailed

        try:
            runs = _run_with_progress(args, raw_dir, warehouse, sorted(todo.run), rules, started)
        except RunFailed as e:
            print(e, file=sys.stderr)
            return 1
    print()
    seconds = time.monotonic() - started
    print(
        run_summary(
            warehouse,
            editions,
            sorted(todo.run),
            seconds,
            runs,
            home and str(home),
            args.publish_anyway,
        )
    )
    if args.wide:
        _print_national(warehouse, editions)
    print_report_path(warehouse)
    return 0


def _run_with_progress(
    args: argparse.Namespace,
    raw_dir: Path,
    warehouse: Path,
    editions: list[int],
    rules: Rules,
    started: float,
) -> int:
    """Run ``editions`` through designation_job, showing progress; the number of runs."""
    from taobao_pipeline.definitions import defs
    from taobao_pipeline.defs.resources import QualityResource, RulesResource
    from taobao_pipeline.progress import Progress
    from taobao_pipeline.runner import JOB, run_editions

    verbose = getattr(args, "verbose", False)
    # progress on stdout, with the summary (stderr holds only an error's paragraph), through
    # a copy of its descriptor: during a run Dagster captures descriptors 1 and 2 into the
    # run's compute log and echoes them late, losing the last lines
    sys.stdout.flush()
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, errors="replace")
    # a live line on a terminal; with Dagster's own log lines (-v) only the lines
    progress = Progress(
        defs.resolve_job_def(JOB), terminal, live=terminal.isatty() and not verbose, started=started
    )
    try:
        with contextlib.nullcontext() if verbose else _stderr_to_devnull():
            results = run_editions(
                raw_dir,
                warehouse,
                editions,
                rules=RulesResource.of(rules),
                quality=QualityResource(publish_anyway=args.publish_anyway)
                if args.publish_anyway
                else None,
                # Dagster's own log (and the stack traces of every step) only with --verbose
                log_level="DEBUG" if verbose else "CRITICAL",
                listener=progress,
            )
    finally:
        progress.close()
        terminal.close()
    return len(results)


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """Descriptor 2 on /dev/null while Dagster runs: what a run writes there is kept in its
    compute log (the UI shows it), and the helper processes Dagster starts to echo it
    inherit this descriptor: on Ctrl-C, which reaches them too, their tracebacks would
    bury the one line that says the run stopped."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _print_national(warehouse: Path, editions: list[int]) -> None:
    """The full national table of ``editions`` (``--wide``), as their publish wrote it."""
    print(f"\nnational_summary ({warehouse}):")
    _print_frame(Warehouse(warehouse).staged_summary(editions))


QUERY_FORMATS = ("table", "csv", "json", "markdown")
OUTPUT_SUFFIXES = (".csv", ".parquet")
# DuckDB's words when a statement would write to the read-only warehouse or lift the sandbox
REFUSALS = ("read-only", "configuration has been locked")


def _write_result(frame: pl.DataFrame, form: str, output: str | None) -> None:
    """A query's result on stdout in ``form``, or into ``output`` (.csv or .parquet).
    Money stays exact: DECIMAL(18,2) in Parquet, its digits in CSV, strings in JSON."""
    if output:
        path = Path(output)
        if path.suffix.lower() == ".parquet":
            frame.write_parquet(path)
        else:
            frame.write_csv(path)
        print(f"wrote {frame.height} rows to {path}")
    elif form == "csv":
        sys.stdout.write(frame.write_csv())
    elif form == "json":
        print(frame.write_json())
    elif form == "markdown":
        with pl.Config(tbl_formatting="MARKDOWN"):
            _print_frame(frame)
    else:
        _print_frame(frame)


def print_report_path(warehouse: Path) -> None:
    """The line of ``run`` naming the report the run's ``report`` asset wrote."""
    from taobao_pipeline.report import report_path

    path = report_path(warehouse)
    if path.exists():
        print(f"Report: {path}")


def cmd_query(args: argparse.Namespace) -> int:
    if args.output and Path(args.output).suffix.lower() not in OUTPUT_SUFFIXES:
        print(f"error: --output {args.output}: give a .csv or .parquet file", file=sys.stderr)
        return 2
    try:
        with Warehouse(args.warehouse).read_only(sandbox=True) as conn:
            relation = conn.sql(args.sql)
            frame = relation.pl() if relation is not None else None
    except (duckdb.Error, FileNotFoundError) as e:
        reason = str(e).splitlines()[0]
        if isinstance(e, duckdb.PermissionException) or any(m in reason for m in REFUSALS):
            reason = (
                "refused: query only reads the warehouse's tables (no writing, attaching, "
                f"files, network or extensions; --output saves a result). DuckDB: {reason}"
            )
        print(f"error: {reason}", file=sys.stderr)
        return 1
    if frame is not None:
        try:
            _write_result(frame, args.format, args.output)
        except OSError as e:
            print(f"error: cannot write {args.output}: {e.strerror or e}", file=sys.stderr)
            return 1
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from taobao_pipeline.report import report_path
    from taobao_pipeline.report.build import build_report

    out = Path(args.out) if args.out else report_path(args.warehouse)
    try:
        built = build_report(args.warehouse, out)
    except (duckdb.Error, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(
        f"Report: {built.path} ({len(built.charts)} charts, editions {built.editions[0]}-"
        f"{built.editions[-1]}, {built.bytes / 1e6:.1f} MB, {built.seconds:.1f} s)"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from taobao_pipeline.release import ReleaseError, export_release

    try:
        manifest = export_release(args.warehouse, args.out)
    except (duckdb.Error, FileNotFoundError, ReleaseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    tables = manifest["tables"]
    print(
        f"Release: {args.out} ({len(tables)} tables as Parquet and CSV, "
        f"{len(manifest['files'])} files, editions {manifest['editions'][0]}-"
        f"{manifest['editions'][-1]}; manifest.json lists their SHA-256)"
    )
    _print_frame(pl.DataFrame([{"table": t, "rows": m["rows"]} for t, m in tables.items()]))
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    from taobao_pipeline.warehouse import NotPublished

    if not args.reason.strip():
        print("error: --reason: say why the edition is withdrawn", file=sys.stderr)
        return 2
    try:
        removed = Warehouse(args.warehouse).withdraw(args.edition, args.reason.strip())
    except (NotPublished, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    rows = ", ".join(f"{table} {n:,}" for table, n in removed.items() if n)
    print(
        f"Withdrew edition {args.edition} from {args.warehouse} (rows removed: {rows}); "
        "recorded in edition_provenance. `taobao-pipeline run` publishes it again."
    )
    return 0


def cmd_import_list(args: argparse.Namespace) -> int:
    from taobao_pipeline.official_lists import OfficialListError, read_official_list

    try:
        official = read_official_list(Path(args.file), args.edition)
    except (OfficialListError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    counts = Warehouse(args.warehouse).import_official_lists({args.edition: official})
    print(
        f"{args.file}: edition {args.edition}, {official.villages.height} villages, "
        f"{official.towns.height} towns, {official.skipped.height} rows skipped"
    )
    try:
        with Warehouse(args.warehouse).read_only() as conn:
            _print_frame(
                conn.sql(
                    "SELECT province_code, province, listed_villages, computed_villages, "
                    "difference FROM official_reconciliation WHERE edition = $e "
                    "ORDER BY listed_villages DESC",
                    params={"e": args.edition},
                ).pl()
            )
    except duckdb.IOException as e:  # say, a session holds the file read-write
        reason = str(e).splitlines()[0]
        print(f"imported; the reconciliation cannot be shown now: {reason}", file=sys.stderr)
    print(f"warehouse rows: {counts}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from taobao_pipeline.generator import generate

    try:
        summary = generate(Path(args.out), args.editions, scale=args.scale, seed=args.seed)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    planned = pl.DataFrame(
        [
            {
                "edition": e,
                "planned_villages": s.villages,
                "planned_towns": s.towns,
                "shops": s.shops,
                "active_shops": s.active_shops,
            }
            for e, s in sorted(summary.editions.items())
        ]
    )
    print(
        f"wrote {args.out} (scale {summary.scale}, seed {summary.seed}) in {summary.seconds:.0f} s"
    )
    _print_frame(planned)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taobao-pipeline", description="Taobao village designations from raw extracts."
    )
    verbose = {"action": "store_true", "help": "Dagster's log and stack traces on errors"}
    parser.add_argument("-v", "--verbose", **verbose)
    # also after the command (run -v); SUPPRESS: absent there, it keeps the global value
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", **verbose, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    warehouse_default = os.environ.get("TAOBAO_WAREHOUSE", DEFAULT_WAREHOUSE)

    run = sub.add_parser(
        "run", parents=[common], help="materialize every asset of some editions through Dagster"
    )
    run.add_argument("--raw-dir", default=os.environ.get("TAOBAO_RAW_DIR", DEFAULT_RAW_DIR))
    run.add_argument("--warehouse", default=warehouse_default)
    run.add_argument(
        "--editions",
        type=parse_editions,
        help="e.g. 2019,2020 or 2014-2020 (default: every edition folder in the raw dir)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="recompute every edition, even those unchanged since they were published",
    )
    run.add_argument(
        "--wide", action="store_true", help="also print the full national table (all columns)"
    )
    run.add_argument(
        "--rules",
        metavar="FILE",
        type=_rules_file,
        help="a TOML file of designation rules that differ from the contract's, e.g. "
        'min_revenue_rmb = "5000000.00", and per edition [edition_overrides.2021] '
        "cutoff_month = 5 (the fields of the rules resource); recorded in edition_provenance",
    )
    run.add_argument(
        "--publish-anyway",
        metavar="REASON",
        help="publish editions whose inputs fail the quality gate (too many rows rejected), "
        "giving your reason; it is recorded in edition_provenance",
    )
    run.set_defaults(func=cmd_run)

    wd = sub.add_parser(
        "withdraw",
        parents=[common],
        help="remove a published edition from the warehouse (one transaction, recorded)",
    )
    wd.add_argument("--edition", type=int, required=True)
    wd.add_argument("--reason", required=True, help="why: recorded in edition_provenance")
    wd.add_argument("--warehouse", default=warehouse_default)
    wd.set_defaults(func=cmd_withdraw)

    query = sub.add_parser(
        "query", parents=[common], help="run read-only SQL on the warehouse, print a table"
    )
    query.add_argument("sql")
    query.add_argument("--format", choices=QUERY_FORMATS, default="table", help="on stdout")
    query.add_argument("--output", metavar="FILE", help="write the result to a .csv or .parquet")
    query.add_argument("--warehouse", default=warehouse_default)
    query.set_defaults(func=cmd_query)

    gen = sub.add_parser(
        "generate", parents=[common], help="write realistic national extracts (calibrated)"
    )
    gen.add_argument("--out", default=os.environ.get("TAOBAO_RAW_DIR", DEFAULT_RAW_DIR))
    gen.add_argument("--editions", type=parse_editions, default=list(range(2009, 2023)))
    gen.add_argument("--scale", type=float, default=1.0, help="1.0 reproduces the record")
    gen.add_argument("--seed", type=int, default=0)
    gen.set_defaults(func=cmd_generate)

    rep = sub.add_parser(
        "report", parents=[common], help="write the HTML report of the warehouse (no network)"
    )
    rep.add_argument("--warehouse", default=warehouse_default)
    rep.add_argument("--out", help="the HTML file (default: report.html beside the warehouse)")
    rep.set_defaults(func=cmd_report)

    exp = sub.add_parser(
        "export", parents=[common], help="write the tables as Parquet and CSV, with a manifest"
    )
    exp.add_argument("--warehouse", default=warehouse_default)
    exp.add_argument("--out", default=DEFAULT_RELEASE, help=f"folder (default {DEFAULT_RELEASE})")
    exp.set_defaults(func=cmd_export)

    imp = sub.add_parser(
        "import-list", parents=[common], help="import a published Taobao village list"
    )
    imp.add_argument("file", help="the list: .xlsx, .csv (UTF-8/GB18030) or UTF-16 .txt")
    imp.add_argument("--edition", type=int, required=True)
    imp.add_argument("--warehouse", default=warehouse_default)
    imp.set_defaults(func=cmd_import_list)
    return parser


# what a stopped command leaves, said after "stopped by SIGTERM"
AFTER_INTERRUPT = {
    "run": ": editions published before it stay published, the others are as they were; "
    "run again to go on",
    "withdraw": ": the edition is withdrawn whole or not at all",
    "import-list": ": the list is imported whole or not at all",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``taobao-pipeline`` command: an error is one short paragraph
    (``errors``), its stack trace only with ``--verbose``; Ctrl-C or SIGTERM stops it with
    one line and the exit code of that signal (130, 143)."""
    from taobao_pipeline.interrupts import Interrupted, stop_on_signals

    args = build_parser().parse_args(argv)
    try:
        with stop_on_signals() as signals:
            try:
                code = args.func(args)
                sys.stdout.flush()  # inside the try: a reader that left shows here, not at exit
            except Interrupted as e:
                # the signal that came, though Dagster's handler may have taken it
                stopped = Interrupted(signals.last() or e.signum)
                after = AFTER_INTERRUPT.get(args.command, "")
                print(f"taobao-pipeline: {stopped}{after}", file=sys.stderr)
                return stopped.exit_code
            return code
    except BrokenPipeError:
        # the reader of the output left (``| head``): nothing to say, and nothing more to
        # write; stdout to /dev/null so that Python's flush at exit stays quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a command killed by SIGPIPE
    except Exception as e:
        if args.verbose:
            raise
        print(describe(e), file=sys.stderr)
        return 1


def entry() -> None:
    """The console command: ``main``, then out without tearing the interpreter down.

    After a national edition the teardown (every module, and the memory of polars, DuckDB
    and the run) took 0.75 s a user only waits for. What ``sys.exit`` does first is still
    done: the exit handlers run and the output is flushed. Another thread still at work
    (none of the pipeline's is) gets the ordinary exit, which waits for it."""
    code = main()
    main_thread = threading.main_thread()
    if any(t is not main_thread and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader left: as in main
        code = code or 141
    os._exit(code)


if __name__ == "__main__":
    entry()
