"""Rows flow through the ingest in batches: an edition read in the smallest batches, every
one written to a Parquet part, stages what one batch a file held in memory stages, row for
row and in order, with the same rejections and reasons (issue 31)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from taobao_pipeline import budget, ingest, parts
from taobao_pipeline.generator import generate
from taobao_pipeline.rules import DEFAULT
from taobao_pipeline.sources import ORDER
from taobao_pipeline.staging import Staging

EDITION = 2020
TABLES = ["villages", "shops", "shop_sales", "rejected_rows", "load_audit"]


def _staged(raw: Path, folder: Path) -> dict[str, pl.DataFrame]:
    stg = Staging(folder, EDITION)
    try:
        for source in ORDER:
            ingest.ingest_source(stg, raw, EDITION, source, DEFAULT)
        return {t: pl.read_parquet(stg.files(t)) for t in TABLES}
    finally:
        stg.close()


def test_small_batches_written_out_stage_what_one_held_batch_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(tmp_path / "raw", editions=[EDITION], scale=0.05, progress=False)
    whole = _staged(tmp_path / "raw", tmp_path / "whole")

    written: list[int] = []  # per source, the batches written to Parquet parts

    class NothingHeld(ingest.Parts):
        def __init__(self, work: Path, limit: int) -> None:
            super().__init__(work, 0)

        def release(self) -> None:
            written.append(self.written())
            super().release()

    # the smallest batches (budget.MIN_BATCH rows), none of them held in memory
    monkeypatch.setattr(budget, "BYTES_PER_ROW", 1 << 40)
    monkeypatch.setattr(ingest, "Parts", NothingHeld)
    batched = _staged(tmp_path / "raw", tmp_path / "batched")

    revenue = whole["load_audit"].filter(pl.col("source") == "revenue")["rows_read"].sum()
    assert revenue > 4 * budget.MIN_BATCH  # several batches a file
    assert len(written) == 3 and written[2] > 4, written
    for table in TABLES:
        a, b = batched[table], whole[table]
        if table == "shop_sales":  # summed by DuckDB's GROUP BY: in no order
            a, b = a.sort("shop_id"), b.sort("shop_id")
        assert a.equals(b), table
    reasons = " ".join(whole["rejected_rows"]["reason"].unique().to_list())
    for reason in ("duplicate", "is not an accepted"):
        assert reason in reasons  # the whole-source rules had rows to judge across batches
    audit = whole["load_audit"]
    assert (audit["rows_read"] == audit["rows_accepted"] + audit["rows_rejected"]).all()


def test_sources_ingested_at_once_share_one_limit(tmp_path: Path) -> None:
    """Editions are ingested two at a time: what their sources hold in memory counts
    against one limit, and is let go when each is staged or fails."""
    rows = pl.DataFrame({"_file": ["a.csv"] * 50, "_row": range(50)}).with_columns(
        pl.col("_file").cast(pl.Categorical)
    )
    size = parts.as_arrow(rows).get_total_buffer_size()
    first, second = ingest.Parts(tmp_path, 2 * size), ingest.Parts(tmp_path, 2 * size)
    first.add(0, 0, rows)
    second.add(0, 0, rows)
    assert (first.held, second.held) == (size, size)
    second.add(0, 1, rows)  # beyond the limit the two share: the second writes all out
    assert second.overflowed and second.held == 0 and second.written() == 2
    first.release()
    third = ingest.Parts(tmp_path, 2 * size)
    third.add(0, 0, rows)
    third.add(0, 1, rows)
    assert third.held == 2 * size and not third.overflowed
    for kept in (second, third):
        kept.release()


def test_a_column_of_every_row_kept_held_or_written(tmp_path: Path) -> None:
    """``Parts.array`` gives one column of every batch, held in memory or written out
    (the repeated key hashes are sorted from it)."""
    rows = pl.DataFrame(
        {"_file": ["a.csv"] * 50, "_row": range(1, 51), "_key_hash": range(50)},
        schema_overrides={"_key_hash": pl.UInt64},
    ).with_columns(pl.col("_file").cast(pl.Categorical))
    held, written = ingest.Parts(tmp_path, 1 << 30), ingest.Parts(tmp_path, 0)
    for kept in (held, written):
        kept.add(0, 0, rows.head(20))
        kept.add(0, 1, rows.tail(30))
    assert (held.written(), written.written()) == (0, 2)
    for kept in (held, written):
        assert sorted(kept.array("_key_hash", np.uint64).tolist()) == list(range(50))
        kept.release()
