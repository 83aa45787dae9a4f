"""``generate()``: plan every edition, then stream its register, shops and sales to files."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from . import defects
from .geography import Geography, build_geography
from .plan import EditionPlan, households_for, make_plans
from .rng import Stream
from .sales import monthly_sales
from .shops import bulk_shops, special_shops
from .writer import SourceWriter, formats_for

#: Shops per chunk: bounds the memory of the sales grid (12 candidate rows per shop).
CHUNK_SHOPS = 350_000
#: Injected bad rows per kind, relative to the rows of a chunk (at least one per kind).
SHOP_DEFECT_RATE = 2e-5
SALES_DEFECT_RATE = 1e-5
VILLAGE_DEFECT_RATE = 1e-5


@dataclass
class EditionSummary:
    """What was planned and written for one edition."""

    edition: int
    villages: int
    towns: int
    provinces: dict[str, int]
    revenue_rmb_cents: int
    active_shops: int
    union_revenue_cents: int
    designated: list[str]
    town_codes: list[str]
    near_misses: dict[str, int]
    files: dict[str, int] = field(default_factory=dict)  # relative path -> data rows
    injected: dict[str, dict[str, int]] = field(default_factory=dict)  # source -> kind -> rows
    shops: int = 0
    seconds: float = 0.0


@dataclass
class GenerationSummary:
    """Result of :func:`generate`."""

    out_dir: Path
    scale: float
    seed: int
    editions: dict[int, EditionSummary]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (without the long code lists)."""
        return {
            "out_dir": str(self.out_dir),
            "scale": self.scale,
            "seed": self.seed,
            "seconds": round(self.seconds, 1),
            "editions": {
                e: {
                    "taobao_villages": s.villages,
                    "taobao_towns": s.towns,
                    "revenue_rmb": f"{s.revenue_rmb_cents // 100}.{s.revenue_rmb_cents % 100:02d}",
                    "active_shops": s.active_shops,
                    "provinces": s.provinces,
                    "shops": s.shops,
                    "files": s.files,
                    "injected": s.injected,
                    "seconds": round(s.seconds, 1),
                }
                for e, s in self.editions.items()
            },
        }


class _Progress:
    """Steps done, ``[k/N]`` on stderr: on a terminal one line redrawn in place, otherwise
    (logs) a line per step. ``N`` is known from the start (two planning steps, then the
    register and the shops of each edition) and ``k`` goes up by one per line. Steps come
    from several threads."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.live = enabled and sys.stderr.isatty()
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def step(self, label: str) -> None:
        """One step done."""
        with self._lock:
            self.done += 1
            self._show(label)

    def note(self, label: str) -> None:
        """Work inside a step (a chunk of shops): only redrawn on a terminal, not counted."""
        with self._lock:
            if self.live:
                self._show(label)

    def _show(self, label: str) -> None:
        if not self.enabled:
            return
        seconds = time.monotonic() - self.started
        line = f"generate [{self.done}/{self.total}] {seconds:5.0f} s  {label}"
        sys.stderr.write(f"\r\x1b[K{line[:99]}" if self.live else f"{line}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _register(geo: Geography, plan: EditionPlan) -> pl.DataFrame:
    """The village register in force for the plan's edition (typed, sorted by code)."""
    e = plan.edition
    names = geo.townships.select("township_code", "township_name").join(
        geo.units.select("township_code").unique(), on="township_code"
    )
    counties = geo.counties.select("county_code", "county_name", "prefecture_name", "province_name")
    units = geo.units.filter((pl.col("first_edition") <= e) & (pl.col("last_edition") >= e))
    reg = (
        units.select(
            "village_code",
            "village_name",
            "township_code",
            "county_code",
            "urban_rural_code",
            households_for(e).alias("households"),
        )
        .join(plan.households.rename({"households": "_h"}), on="village_code", how="left")
        .with_columns(households=pl.coalesce("_h", "households"))
        .join(names, on="township_code", how="left")
        .join(counties, on="county_code", how="left")
        .sort("village_code")
    )
    return reg.select(list(defects.VILLAGE_SCHEMA))


def _chunks(units: pl.DataFrame) -> Iterable[pl.DataFrame]:
    n_shops = (
        units["active"]
        + units["n_new"]
        + units["n_closed"]
        + units["n_dormant"]
        + units["n_low"]
        + units["specials"].list.len()
    )
    cum = n_shops.cum_sum()
    chunk_id = (cum - n_shops) // CHUNK_SHOPS
    units = units.with_columns(chunk_id.alias("_chunk"))
    for _, part in units.group_by("_chunk", maintain_order=True):
        yield part.drop("_chunk")


def _merge(into: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


def _write_edition(
    out_dir: Path, geo: Geography, plan: EditionPlan, seed: int, progress: _Progress
) -> EditionSummary:
    start = time.perf_counter()
    e = plan.edition
    folder = out_dir / str(e)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file() and old.name.startswith(("villages.", "shops.", "revenue")):
            old.unlink()
    fmts = formats_for(e)
    stream = Stream(seed, "edition", e)
    rnd = stream.python()
    tg = plan.targets
    summary = EditionSummary(
        edition=e,
        villages=tg.villages,
        towns=tg.towns,
        provinces=dict(tg.provinces),
        revenue_rmb_cents=int(plan.units.filter(pl.col("designated"))["revenue_cents"].sum()),
        active_shops=int(plan.units.filter(pl.col("designated"))["planned_active"].sum()),
        union_revenue_cents=tg.union_revenue_cents,
        designated=sorted(plan.designated),
        town_codes=list(plan.towns),
        near_misses=dict(plan.near_misses),
    )
    injected: dict[str, dict[str, int]] = {"villages": {}, "shops": {}, "revenue": {}}

    # Register.
    register = _register(geo, plan)
    planned = set(plan.units["village_code"].to_list())
    stable_free = [c for c in register["village_code"].to_list() if c not in planned]
    stable_free = stable_free[:: max(1, len(stable_free) // 5000)]
    n_v = max(2, round(register.height * VILLAGE_DEFECT_RATE))
    bad_v, rejected_villages = defects.village_defects(
        register, stable_free, rnd, n_v, fmts.villages.is_csv
    )
    _merge(injected["villages"], bad_v.counts)
    typed = pl.concat([register, bad_v.typed])
    key = pl.concat(
        [
            pl.int_range(0, register.height, eager=True) * 2,
            (stream.uniform(bad_v.typed.height) * register.height).cast(pl.Int64) * 2 + 1,
        ]
    )
    typed = typed.with_columns(key.alias("_k")).sort("_k").drop("_k")
    vw = SourceWriter(folder, "villages", fmts.villages, e, stream)
    vw.write(typed, bad_v.text if fmts.villages.is_csv else None)
    files = vw.close()
    progress.step(f"{e} register")

    # Shops and sales, chunk by chunk.
    counties = geo.counties.select("county_code", "category")
    units = (
        plan.units.with_columns(county_code=pl.col("village_code").str.slice(0, 6))
        .join(counties, on="county_code", how="left")
        .sort("village_code")
    )
    sw = SourceWriter(folder, "shops", fmts.shops, e, stream)
    rw = SourceWriter(folder, "revenue", fmts.revenue, e, stream)
    seq = 0
    carry: pl.DataFrame | None = None
    chunks = list(_chunks(units))
    for i, chunk in enumerate(chunks):
        bulk = bulk_shops(chunk, e, stream, seq)
        seq += bulk.height
        sp_shops, sp_sales = special_shops(chunk, e, seq)
        seq += sp_shops.height
        sales = monthly_sales(bulk, sp_shops, sp_sales, chunk, e, stream)
        shops = pl.concat([bulk.select(list(defects.SHOP_SCHEMA)), sp_shops])
        summary.shops += shops.height
        # Targets of invalid shops: near-miss units first, then a few others.
        roles = chunk.select("village_code", "role")
        traps = roles.filter(pl.col("role").is_in(["nearmiss", "town_nearmiss"]))[
            "village_code"
        ].to_list()
        others = roles.filter(pl.col("role").is_in(["background", "contributor"]))[
            "village_code"
        ].to_list()
        rnd.shuffle(others)
        targets = traps + others[:20] or roles["village_code"].to_list()[:5]
        n_s = max(1, round(shops.height * SHOP_DEFECT_RATE))
        bad_s, bad_s_sales, seq = defects.shop_defects(
            shops,
            targets,
            rejected_villages if i == 0 else [],
            e,
            rnd,
            n_s,
            seq,
            fmts.shops.is_csv,
        )
        _merge(injected["shops"], bad_s.counts)
        _merge(injected["revenue"], bad_s_sales.counts)
        sw.write(pl.concat([shops, bad_s.typed]), bad_s.text if fmts.shops.is_csv else None)
        # Sales defects: trap shops are accepted shops of near-miss units.
        trap_shops = shops.filter(pl.col("village_code").is_in(traps))["shop_id"].to_list()
        plain = shops.sample(n=min(200, shops.height), seed=rnd.randrange(2**31))[
            "shop_id"
        ].to_list()
        n_r = max(1, round(sales.height * SALES_DEFECT_RATE))
        bad_r = defects.sales_defects(
            sales, trap_shops[:40], plain, e, rnd, n_r, fmts.revenue.is_csv
        )
        counts = dict(bad_r.counts)
        dups = bad_r.typed.head(counts.get("duplicate_identical", 0))
        other_bad = bad_r.typed.slice(dups.height)
        _merge(injected["revenue"], counts)
        text = bad_r.text if fmts.revenue.is_csv else None
        parts = [sales, bad_s_sales.typed, other_bad]
        if carry is not None:
            parts.append(carry)  # identical copies of the previous part's rows
        last = i == len(chunks) - 1
        if last:
            parts.append(dups)
            carry = None
        else:
            carry = dups
        body = pl.concat(parts)
        if fmts.revenue.parts and len(chunks) == 1:
            half = sales.height // 2  # always at least two parts
            rw.write(body.head(half))
            rw.new_part()
            rw.write(body.slice(half), text)
        else:
            rw.write(body, text)
        if fmts.revenue.parts:
            rw.new_part()
        if not last:
            progress.note(f"{e} shops and sales, part {i + 1}/{len(chunks)} written")
    files += sw.close()
    files += rw.close()
    progress.step(f"{e} shops and sales")
    summary.files = {str(f.path.relative_to(out_dir)): f.rows for f in files}
    summary.injected = injected
    summary.seconds = time.perf_counter() - start
    return summary


def generate(
    out_dir: Path,
    editions: Sequence[int] = range(2009, 2023),
    scale: float = 1.0,
    seed: int = 0,
    progress: bool = True,
    workers: int | None = None,
) -> GenerationSummary:
    """Write raw extracts for ``editions`` into ``out_dir/<edition>/``.

    ``workers``: editions written at the same time (threads; the heavy work runs in
    polars, pyarrow and zlib, which release the GIL). Default: the number of CPUs, at most 2.

    At ``scale=1.0`` the designations computed from the files with the contract's rules
    reproduce the published record (``taobao_pipeline.published_record``); smaller scales give
    proportionally smaller data. The same seed always writes the same files.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    eds = sorted(set(editions))
    if not eds or eds[0] < 2009 or eds[-1] > 2022:
        raise ValueError("editions must lie within 2009-2022 (the published record)")
    start = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bar = _Progress(2 + 2 * len(eds), progress)
    geo = build_geography(scale, seed)
    bar.step("register built")
    plans = make_plans(geo, eds, scale, seed)
    bar.step("designations planned")
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    # Largest editions first so the workers finish together.
    order = sorted(plans, key=lambda p: -int(p.units["active"].sum()))
    summaries: dict[int, EditionSummary] = {}
    try:
        if n_workers <= 1:
            for p in order:
                summaries[p.edition] = _write_edition(out_dir, geo, p, seed, bar)
        else:
            with ThreadPoolExecutor(max_workers=n_workers) as pool:
                futures = [pool.submit(_write_edition, out_dir, geo, p, seed, bar) for p in order]
                for f in futures:
                    s = f.result()
                    summaries[s.edition] = s
    finally:
        bar.close()
    summaries = dict(sorted(summaries.items()))
    return GenerationSummary(
        out_dir=out_dir,
        scale=scale,
        seed=seed,
        editions=summaries,
        seconds=time.perf_counter() - start,
    )
