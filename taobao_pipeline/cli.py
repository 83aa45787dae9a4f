"""The ``taobao-pipeline`` command: run editions through Dagster, query the warehouse."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from taobao_pipeline.extracts import editions_in
from taobao_pipeline.resources import DEFAULT_RAW_DIR, DEFAULT_WAREHOUSE
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
        tbl_width_chars=200,
        thousands_separator=False,
    ):
        print(frame)


def cmd_run(args: argparse.Namespace) -> int:
    from taobao_pipeline.fingerprints import plan
    from taobao_pipeline.resources import RulesResource
    from taobao_pipeline.runner import RunFailed, run_editions

    raw_dir = Path(args.raw_dir)
    editions = args.editions or editions_in(raw_dir)
    if not editions:
        print(f"error: no edition folders (e.g. {raw_dir}/2020/) under {raw_dir}", file=sys.stderr)
        return 2
    # editions unchanged since published (files, rules, code) are not computed again
    todo = plan(raw_dir, Path(args.warehouse), editions, RulesResource().rules(), args.force)
    for line in todo.describe():
        print(line)
    try:
        if todo.run:
            run_editions(raw_dir, Path(args.warehouse), sorted(todo.run))
    except RunFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    with Warehouse(args.warehouse).read_only() as conn:
        frame = conn.sql(
            "SELECT * FROM national_summary WHERE list_contains($e, edition) ORDER BY edition",
            params={"e": editions},
        ).pl()
    print(f"National summary ({args.warehouse}):")
    _print_frame(frame)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    try:
        with Warehouse(args.warehouse).read_only() as conn:
            relation = conn.sql(args.sql)
            if relation is not None:
                _print_frame(relation.pl())
    except (duckdb.Error, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
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
    with Warehouse(args.warehouse).read_only() as conn:
        _print_frame(
            conn.sql(
                "SELECT province_code, province, listed_villages, computed_villages, difference "
                "FROM official_reconciliation WHERE edition = $e ORDER BY listed_villages DESC",
                params={"e": args.edition},
            ).pl()
        )
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
    sub = parser.add_subparsers(dest="command", required=True)
    warehouse_default = os.environ.get("TAOBAO_WAREHOUSE", DEFAULT_WAREHOUSE)

    run = sub.add_parser("run", help="materialize every asset of some editions through Dagster")
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
    run.set_defaults(func=cmd_run)

    query = sub.add_parser("query", help="run read-only SQL on the warehouse, print a table")
    query.add_argument("sql")
    query.add_argument("--warehouse", default=warehouse_default)
    query.set_defaults(func=cmd_query)

    gen = sub.add_parser("generate", help="write realistic national extracts (calibrated)")
    gen.add_argument("--out", default=os.environ.get("TAOBAO_RAW_DIR", DEFAULT_RAW_DIR))
    gen.add_argument("--editions", type=parse_editions, default=list(range(2009, 2023)))
    gen.add_argument("--scale", type=float, default=1.0, help="1.0 reproduces the record")
    gen.add_argument("--seed", type=int, default=0)
    gen.set_defaults(func=cmd_generate)

    imp = sub.add_parser("import-list", help="import a published Taobao village list")
    imp.add_argument("file", help="the list: .xlsx, .csv (UTF-8/GB18030) or UTF-16 .txt")
    imp.add_argument("--edition", type=int, required=True)
    imp.add_argument("--warehouse", default=warehouse_default)
    imp.set_defaults(func=cmd_import_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``taobao-pipeline`` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
