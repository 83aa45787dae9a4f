"""The published Taobao village lists, imported beside the computed designations."""

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from taobao_pipeline.assets.common import SINGLE_RUN, edition_metadata, markdown_table
from taobao_pipeline.official_lists import OfficialListError, read_official_list
from taobao_pipeline.partitions import edition_keys, editions
from taobao_pipeline.resources import WarehouseResource

LIST_SUFFIXES = (".xlsx", ".csv", ".txt", ".tsv")


def official_list_file(edition_dir: Path) -> Path | None:
    """The edition's published list under ``official/``, if one was delivered."""
    folder = edition_dir / "official"
    files = sorted(p for p in folder.glob("*") if p.suffix.lower() in LIST_SUFFIXES)
    if len(files) > 1:
        names = ", ".join(p.name for p in files)
        raise OfficialListError(f"{folder}: several published lists, keep one: {names}")
    return files[0] if files else None


@dg.asset(
    group_name="official",
    partitions_def=editions,
    backfill_policy=SINGLE_RUN,
    kinds={"openpyxl", "duckdb"},
)
def official_list(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The list AliResearch published for the edition (data/raw/<edition>/official/*.xlsx,
    .csv or UTF-16 .txt), in official_villages and official_towns, reconciled per province
    with the computed Taobao villages in official_reconciliation. Editions without a
    published list are left as they are."""
    lists, per_edition = {}, {}
    for edition in edition_keys(context):
        path = official_list_file(warehouse.raw / str(edition))
        if path is None:
            context.log.info(f"edition {edition}: no published list under official/")
            continue
        lst = read_official_list(path, edition)
        lists[edition] = lst
        per_edition[edition] = {
            "file": path.name,
            "villages": lst.villages.height,
            "towns": lst.towns.height,
            "provinces": lst.villages["province"].n_unique(),
            "rows_skipped": lst.skipped.height,
        }
    if not lists:
        return dg.MaterializeResult(metadata={"villages": 0})
    counts = warehouse.warehouse.import_official_lists(lists)
    metadata = edition_metadata(per_edition)
    metadata["rows_by_table"] = dg.MetadataValue.json(counts)
    return dg.MaterializeResult(metadata=metadata)


def _imported(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource, sql: str
) -> pl.DataFrame:
    """``sql`` over ``official_villages`` as the run's editions' lists hold it (read from
    their files, as the asset imported them); empty if no list was delivered. Not read
    from the warehouse: only the publish opens that file, and a foreign read-write
    session on it would refuse a reader after the import succeeded."""
    frames = []
    for edition in edition_keys(context):
        path = official_list_file(warehouse.raw / str(edition))
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


@dg.asset_check(
    asset=official_list,
    partitions_def=editions,
    description="No listed village has a blank name.",
)
def official_villages_named(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    blank = _imported(
        context,
        warehouse,
        "SELECT edition, village_original FROM official_villages "
        "WHERE list_contains($e, edition) AND (village IS NULL OR trim(village) = '')",
    )
    return dg.AssetCheckResult(passed=blank.height == 0, metadata={"blank_names": blank.height})


@dg.asset_check(
    asset=official_list,
    partitions_def=editions,
    description="No village is listed twice in one edition's list.",
)
def official_villages_unique(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    repeated = _imported(
        context,
        warehouse,
        "SELECT edition, province, prefecture, county, township, village, count(*) AS n "
        "FROM official_villages WHERE list_contains($e, edition) "
        "GROUP BY ALL HAVING count(*) > 1",
    )
    return dg.AssetCheckResult(
        passed=repeated.height == 0,
        metadata={
            "repeated_villages": repeated.height,
            "examples": markdown_table(repeated.head(10).to_dicts()),
        },
    )
