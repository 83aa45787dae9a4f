"""The published Taobao village lists (official_villages, official_towns), imported beside
the computed designations."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from taobao_pipeline.defs.checks import CASES, Verdict, results
from taobao_pipeline.defs.metadata import SINGLE_RUN, per_edition, rows, table_spec
from taobao_pipeline.defs.partitions import edition_keys, editions
from taobao_pipeline.defs.resources import PathsResource
from taobao_pipeline.editions import describe_editions
from taobao_pipeline.official_lists import OfficialListError, read_official_list

LIST_SUFFIXES = (".xlsx", ".csv", ".txt", ".tsv")


def official_list_file(edition_dir: Path) -> Path | None:
    """The edition's published list under ``official/``, if one was delivered."""
    folder = edition_dir / "official"
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in LIST_SUFFIXES)
    if len(files) > 1:
        names = ", ".join(p.name for p in files)
        raise OfficialListError(f"{folder}: several published lists, keep one: {names}")
    return files[0] if files else None


GROUP = "official_lists"
# a tuple, not a list: load_from_defs_folder (definitions.py) would load a module-level
# list of specs as assets of their own
OFFICIAL_SPECS = (
    table_spec(
        "official_villages",
        "The villages of the list AliResearch published for the edition "
        "(data/raw/<edition>/official/*.xlsx, .csv or UTF-16 .txt).",
        group_name=GROUP,
        kinds={"openpyxl", "duckdb"},
    ),
    table_spec(
        "official_towns",
        "The Taobao towns of the edition's published list, where it gives them.",
        group_name=GROUP,
        kinds={"openpyxl", "duckdb"},
    ),
)


@dg.multi_asset(
    name="import_official_lists",
    specs=OFFICIAL_SPECS,
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
)
def import_official_lists(
    context: dg.AssetExecutionContext, paths: PathsResource
) -> Iterator[dg.MaterializeResult]:
    """The published lists of the run's editions, imported into official_villages and
    official_towns (editions without a list are left as they are). They are reconciled
    with the designations in official_reconciliation when the designations are published."""
    lists, villages, towns, without = {}, {}, {}, []
    for edition in edition_keys(context):
        path = official_list_file(paths.raw / str(edition))
        if path is None:
            without.append(edition)
            continue
        lst = read_official_list(path, edition)
        lists[edition] = lst
        villages[edition] = {
            "file": path.name,
            "villages": lst.villages.height,
            "provinces": lst.villages["province"].n_unique(),
            "rows_skipped": lst.skipped.height,
        }
        towns[edition] = {"file": path.name, "towns": lst.towns.height}
    if without:  # one line, not one per edition: each is an event Dagster stores (~10 ms)
        missing = describe_editions(without)
        context.log.info(f"no published list under official/ for edition(s) {missing}")
    counts = {}
    if lists:
        counts = paths.warehouse.import_official_lists(lists, reconcile=False)
    left = {"list": "none delivered: the edition's rows are left as they were"}
    for table, figures, count in (
        ("official_villages", villages, "villages"),
        ("official_towns", towns, "towns"),
    ):
        per_edition(
            context,
            table,
            {
                e: figures[e] | rows(figures[e][count]) if e in figures else left
                for e in edition_keys(context)
            },
        )
        metadata = {"dagster/row_count": counts[table]} if table in counts else {}
        yield dg.MaterializeResult(asset_key=table, metadata=metadata)


def _imported(context: dg.OpExecutionContext, paths: PathsResource, sql: str) -> pl.DataFrame:
    """``sql`` over ``official_villages`` as the run's editions' lists hold it (read from
    their files, as the asset imported them); empty if no list was delivered. Not read
    from the warehouse: only the publish opens that file, and a foreign read-write
    session on it would refuse a reader after the import succeeded."""
    frames = []
    for edition in edition_keys(context):
        path = official_list_file(paths.raw / str(edition))
        if path is not None:
            frames.append(read_official_list(path, edition).villages)
    if not frames:
        return pl.DataFrame()
    conn = duckdb.connect()
    try:
        conn.register("official_villages", pl.concat(frames, how="diagonal_relaxed"))
        return conn.sql(sql, params={"e": edition_keys(context)}).pl()
    finally:
        conn.close()


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "official_villages_named",
            asset="official_villages",
            partitions_def=editions,
            description="No listed village has a blank name.",
        ),
        dg.AssetCheckSpec(
            "official_villages_unique",
            asset="official_villages",
            partitions_def=editions,
            description="No village is listed twice in one edition's list.",
        ),
    ]
)
def official_villages_checks(
    context: dg.AssetCheckExecutionContext, paths: PathsResource
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """The lists of the run's editions: names given, each village once; per edition."""
    op = context.op_execution_context
    keys = edition_keys(op)
    blank = _imported(
        op,
        paths,
        "SELECT edition, village_original FROM official_villages "
        "WHERE list_contains($e, edition) AND (village IS NULL OR trim(village) = '')",
    )
    repeated = _imported(
        op,
        paths,
        "SELECT edition, province, prefecture, county, township, village, count(*) AS n "
        "FROM official_villages WHERE list_contains($e, edition) "
        "GROUP BY ALL HAVING count(*) > 1",
    )
    for name, found, said in (
        ("official_villages_named", blank, "villages listed without a name"),
        ("official_villages_unique", repeated, "villages listed more than once"),
    ):
        verdicts = {}
        for edition in keys:
            mine = found.filter(pl.col("edition") == edition) if found.height else found
            verdicts[edition] = Verdict(
                passed=mine.height == 0,
                summary=f"{mine.height:,} {said}",
                severity=dg.AssetCheckSeverity.WARN,
                cases=mine.head(CASES).to_dicts(),
            )
        yield from results(op, "official_villages", name, verdicts)
