"""The designation plan: which units are Taobao villages and towns, and what each unit sells.

The plan is made before any shop exists, for every edition at once, so designations persist
the way real ones do: a township that has Taobao villages keeps them (a few drop out each
year and are replaced by neighbours), clusters grow by preferential attachment inside hot
counties, and new villages appear first where the county is hot.

For every edition the plan gives each *planned unit* an exact revenue (in cents) and an exact
number of active shops, plus how many inactive shops of each kind it has. Units are:

* ``designated``: Taobao villages, safely above the thresholds (revenue >= 10.6 million,
  active shops >= 105 or >= 10.5% of households), except ``boundary`` ones that sit exactly
  on a threshold that still qualifies (revenue 10,000,000.00; exactly 100 active shops; density
  exactly 10%; no households but >= 100 shops);
* ``nearmiss``: units that just fail one rule (9,999,999.99; 99 active shops; density just
  under 10%; shops opened 29 days before the cut-off; closed on the cut-off date; orders
  averaging just under one; residents' committees and other units with big sales; zero
  households), each alone in a reserved township;
* ``town_nearmiss`` / ``town_boundary``: from 2019, townships exactly at the sales rule
  (30,000,000.00 with 400 shops, 300 shops with 44 million: no town; 30,000,000.01 with 301
  shops: a town);
* ``contributor``: non-designated units of Taobao towns whose sales make the towns' total
  (and, from 2019, make towns qualify by the sales rule);
* ``background``: a sparse scatter of small sellers elsewhere.

From 2019, townships with one or two Taobao villages that are not planned towns keep their
villages small (revenue <= 14.4 million each), so the township never reaches the sales rule.
The plan checks itself: it recomputes every designation from the planned numbers with the
contract's rules and raises if anything differs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from taobao_pipeline.provinces import NAMES as PROVINCES
from taobao_pipeline.rules import DEFAULT

from .counties import county_targets, place
from .geography import Geography
from .rng import Stream
from .targets import (
    NO_SUBDISTRICT_TOWNS_FROM,
    SALES_RULE_FROM,
    EditionTargets,
    edition_targets,
    largest_remainder,
)

YUAN = 100  # cents
# the contract's thresholds, in cents: the plan puts villages and towns on them exactly
VILLAGE_REVENUE = int(DEFAULT.min_revenue_rmb * YUAN)
TOWN_REVENUE = int(DEFAULT.town_min_revenue_rmb * YUAN)
SMALL_MAX = 14_400_000 * YUAN  # designated villages of non-town townships (2019+)

# Revenue weights of the designated villages sized from the edition's budget: a lognormal
# body (sigma 0.8) and, above the knee (the top 4%), a Pareto tail (alpha 2.2) truncated at
# TAIL_MAX times the body's median, so the top villages of an edition are few, large and
# distinct (a hard cap made the largest ones equal to the cent).
REVENUE_SIGMA = 0.8
TAIL_KNEE_Z = 1.75
TAIL_ALPHA = 2.2
TAIL_MAX = 60.0


@dataclass(frozen=True)
class SpecialShop:
    """A hand-made shop at a threshold: fixed dates and fixed revenue rows."""

    active: bool
    opened: str  # "cutoff-N" or "MM-DD" of the edition's year
    closed: str | None
    rows: tuple[tuple[int, int, int], ...]  # (window month index 0..11, gmv cents, orders)

    def dates(self, edition: int) -> tuple[date, date | None]:
        """Opening and closing dates for an edition (cut-off: 30 June)."""
        cutoff = date(edition, 6, 30)

        def parse(text: str) -> date:
            if text.startswith("cutoff"):
                return cutoff + timedelta(days=int(text[6:] or 0))
            month, day = text.split("-")
            return date(edition, int(month), int(day))

        return parse(self.opened), parse(self.closed) if self.closed else None


SPECIAL_SHOPS: dict[str, SpecialShop] = {
    # Open exactly 30 days at the cut-off: counts.
    "age30_active": SpecialShop(True, "cutoff-30", None, ((11, 50_000, 10),)),
    # Open 29 days: does not count.
    "new29": SpecialShop(False, "cutoff-29", None, ((11, 80_000, 40),)),
    # Closed on the cut-off date: not active.
    "closed_at_cutoff": SpecialShop(
        False, "cutoff-400", "cutoff", ((10, 60_000, 30), (11, 50_000, 25))
    ),
    "closed_day_before": SpecialShop(
        False, "cutoff-400", "cutoff-1", ((9, 45_000, 20), (11, 40_000, 18))
    ),
    # Closing date after the cut-off: still active.
    "close_future": SpecialShop(
        True, "cutoff-500", "cutoff+1", ((9, 40_000, 20), (11, 30_000, 12))
    ),
    # Opened in May: two counted months, needs two orders.
    "may_2": SpecialShop(True, "05-10", None, ((10, 3_000, 1), (11, 2_500, 1))),
    "may_1": SpecialShop(False, "05-10", None, ((11, 1_500, 1),)),
    # Opened in April: three counted months, needs three orders.
    "apr_2": SpecialShop(False, "04-20", None, ((9, 1_000, 1), (11, 1_200, 1))),
    "apr_3": SpecialShop(True, "04-20", None, ((9, 1_000, 1), (10, 1_100, 1), (11, 1_200, 1))),
    # Big earlier sales, no orders in the last three months (a refund instead).
    "dormant_big": SpecialShop(False, "cutoff-900", None, ((6, 9_000_000, 500), (10, -20_000, 0))),
    # A net-refund month of -600.00 and -400.00 net over the fixed rows.
    "refund_600": SpecialShop(
        True, "cutoff-700", None, ((3, 10_000, 4), (7, -60_000, 0), (11, 10_000, 5))
    ),
}


@dataclass(frozen=True)
class UnitSpec:
    """How a near-miss / boundary unit is made (per edition)."""

    unit_type: str  # rc, vc, other
    revenue: tuple[int, int] | None  # cents range, None: keep the class sizing
    active: tuple[int, int] | None  # bulk active range
    specials: tuple[str, ...] = ()
    households: str = ""  # "", "min1500", "zero", "10x", "10x+1"


NEAR_MISSES: dict[str, UnitSpec] = {
    "revenue_one_cent_short": UnitSpec("vc", (999_999_999, 999_999_999), (150, 250)),
    "refund_pulls_under": UnitSpec("vc", (999_995_000, 999_995_000), (118, 118), ("refund_600",)),
    "shops_99": UnitSpec("vc", (2_000_000_000, 6_000_000_000), (99, 99), (), "min1500"),
    "density_under_10pct": UnitSpec("vc", (1_100_000_000, 2_000_000_000), (30, 90), (), "10x+1"),
    "opened_29_days": UnitSpec(
        "vc", (2_500_000_000, 2_500_000_000), (99, 99), ("new29", "new29", "new29"), "min1500"
    ),
    "closed_at_cutoff": UnitSpec(
        "vc",
        (2_200_000_000, 2_200_000_000),
        (98, 98),
        ("close_future", "closed_at_cutoff", "closed_day_before"),
        "min1500",
    ),
    "orders_under_1": UnitSpec(
        "vc",
        (1_800_000_000, 1_800_000_000),
        (97, 97),
        ("may_2", "apr_3", "may_1", "apr_2", "dormant_big"),
        "min1500",
    ),
    "residents_committee": UnitSpec("rc", (4_000_000_000, 8_000_000_000), (200, 280)),
    "other_unit": UnitSpec("other", (2_000_000_000, 2_000_000_000), (150, 150)),
    "zero_households": UnitSpec("vc", (1_500_000_000, 1_500_000_000), (60, 60), (), "zero"),
}

BOUNDARIES: dict[str, UnitSpec] = {
    "revenue_exactly_10m": UnitSpec("vc", (VILLAGE_REVENUE, VILLAGE_REVENUE), None),
    "shops_exactly_100": UnitSpec(
        "vc",
        None,
        (96, 96),
        ("age30_active", "close_future", "may_2", "apr_3", "new29", "closed_at_cutoff"),
        "min1500",
    ),
    "density_exactly_10pct": UnitSpec("vc", None, (40, 95), (), "10x"),
    "zero_households_100_shops": UnitSpec("vc", None, (100, 110), (), "zero"),
}

#: Townships at the sales rule (from 2019): units (type, revenue cents, active shops).
TOWN_CASES: dict[str, tuple[bool, tuple[tuple[str, int, int], ...]]] = {
    "revenue_exactly_30m": (
        False,
        (
            ("rc", 1_200_000_000, 150),
            ("vc", 900_000_000, 100),
            ("vc", 600_000_000, 100),
            ("vc", 300_000_000, 50),
        ),
    ),
    "shops_exactly_300": (
        False,
        (("rc", 2_500_000_000, 150), ("vc", 950_000_000, 80), ("vc", 950_000_000, 70)),
    ),
    "just_over_both": (
        True,
        (("rc", 1_200_000_001, 151), ("vc", 900_000_000, 100), ("vc", 900_000_000, 50)),
    ),
}


@dataclass
class EditionPlan:
    """The plan of one edition."""

    targets: EditionTargets
    units: pl.DataFrame  # one row per planned unit (see module doc)
    households: pl.DataFrame  # village_code, households: overrides for this edition
    towns: list[str]
    cluster_towns: list[str]
    sales_towns: list[str]
    near_misses: dict[str, int] = field(default_factory=dict)

    @property
    def edition(self) -> int:
        """The edition year."""
        return self.targets.edition

    @property
    def designated(self) -> list[str]:
        """Codes of the planned Taobao villages."""
        return self.units.filter(pl.col("designated"))["village_code"].to_list()


@dataclass
class _Township:
    code: str
    province: str
    county_weight: float
    is_sub: bool
    vcs: list[str]  # eligible village committees, in designation order
    spare: list[str]  # rc / other units usable as contributors
    cap: int
    c: int = 0


def households_for(edition: int) -> pl.Expr:
    """Households of the register in force for ``edition`` (a slow drift of the base)."""
    return (pl.col("households") * (1.0 + 0.006 * (edition - 2009))).round().cast(pl.Int64)


class Planner:
    """Builds :class:`EditionPlan` objects for a geography, a scale and a seed."""

    def __init__(self, geo: Geography, scale: float, seed: int) -> None:
        self.geo = geo
        self.scale = scale
        self.seed = seed
        self.stream = Stream(seed, "plan")
        self.rnd = self.stream.python()
        units = geo.units
        self.stable = units.filter(
            (pl.col("first_edition") == 2009) & (pl.col("last_edition") == 2022)
        )
        self.reps = max(1, round(3 * scale))
        # the county placement draws from its own stream: the others stay as they were
        self.county_rnd = Stream(seed, "plan", "counties").python()
        self.county_counts: dict[str, int] = {}
        self._reserve()
        self._townships()

    # --- reserved townships for near misses ---------------------------------------------
    def _reserve(self) -> None:
        """Pick townships (cold counties) that hold one near-miss case each, all editions."""
        rnd = self.rnd
        counties = self.geo.counties.select("county_code", "hot_weight")
        t = (
            self.geo.townships.join(counties, on="county_code")
            .filter(pl.col("hot_weight") < 5)
            .sort("township_code")
        )
        st = self.stable
        rc = (
            st.filter(pl.col("unit_type") == "rc")
            .group_by("township_code")
            .agg(pl.col("village_code").sort().alias("rcs"))
        )
        vc = (
            st.filter((pl.col("unit_type") == "vc") & (pl.col("households") > 0))
            .group_by("township_code")
            .agg(pl.col("village_code").sort().alias("vcs"))
        )
        other = (
            st.filter(pl.col("unit_type") == "other")
            .group_by("township_code")
            .agg(pl.col("village_code").sort().alias("others"))
        )
        t = (
            t.join(rc, on="township_code", how="left")
            .join(vc, on="township_code", how="left")
            .join(other, on="township_code", how="left")
            .sort("township_code")
        )
        rows = t.select("township_code", "is_subdistrict", "rcs", "vcs", "others").rows()
        rnd.shuffle(rows)
        used: set[str] = set()
        self.reserved_units: dict[str, list[tuple[str, str]]] = {}  # case -> [(kind, code)]

        def take(need: dict[str, int], no_sub: bool) -> list[tuple[str, str]] | None:
            for code, is_sub, rcs, vcs, others in rows:
                if code in used or (no_sub and is_sub):
                    continue
                pools = {"rc": rcs or [], "vc": vcs or [], "other": others or []}
                if all(len(pools[k]) >= n for k, n in need.items()):
                    used.add(code)
                    picked = []
                    for k, n in need.items():
                        picked += [(k, c) for c in pools[k][:n]]
                    return picked
            return None

        for name, spec in {**NEAR_MISSES}.items():
            for r in range(self.reps):
                got = take({spec.unit_type: 1}, False)
                if got is None:
                    raise ValueError(f"no township left for near miss {name}")
                self.reserved_units[f"{name}#{r}"] = got
        for name, (_, parts) in TOWN_CASES.items():
            need: dict[str, int] = {}
            for kind, _, _ in parts:
                need[kind] = need.get(kind, 0) + 1
            got = take(need, True)
            if got is None:
                raise ValueError(f"no township left for town case {name}")
            self.reserved_units[name] = got
        self.reserved_townships = used

    # --- townships available for designations ------------------------------------------
    def _townships(self) -> None:
        rnd = self.rnd
        st = self.stable.filter(~pl.col("township_code").is_in(list(self.reserved_townships)))
        # Village committees that drop out for good at some edition (not famous ones).
        n = st.height
        u = self.stream.uniform(n)
        y = self.stream.uniform(n)
        st = st.with_columns(u.alias("_u"), y.alias("_y")).with_columns(
            exit_edition=pl.when((pl.col("_u") < 0.06) & ~pl.col("famous"))
            .then((2011 + pl.col("_y") * 12).floor().cast(pl.Int32))
            .otherwise(pl.lit(9999, pl.Int32))
        )
        self.exit_of = dict(
            st.filter(pl.col("exit_edition") < 9999).select("village_code", "exit_edition").rows()
        )
        vcs = (
            st.filter((pl.col("unit_type") == "vc") & (pl.col("households") > 0))
            .sort("township_code", "order_key", "village_code")
            .group_by("township_code", maintain_order=True)
            .agg(
                pl.col("village_code").alias("vcs"),
                (pl.col("exit_edition") == 9999).sum().alias("cap"),
            )
        )
        spare = (
            st.filter(pl.col("unit_type") != "vc")
            .sort("township_code", "unit_type", "village_code")
            .group_by("township_code", maintain_order=True)
            .agg(pl.col("village_code").alias("spare"))
        )
        counties = self.geo.counties.select("county_code", "hot_weight", "province_code")
        t = (
            self.geo.townships.filter(~pl.col("township_code").is_in(list(self.reserved_townships)))
            .join(counties, on="county_code")
            .join(vcs, on="township_code", how="inner")
            .join(spare, on="township_code", how="left")
            .sort("township_code")
        )
        famous_townships = set(self.stable.filter(pl.col("famous"))["township_code"].to_list())
        self.by_province: dict[str, list[_Township]] = {}
        for code, prov, w, is_sub, vlist, cap, sp in t.select(
            "township_code",
            "province_code",
            "hot_weight",
            "is_subdistrict",
            "vcs",
            "cap",
            "spare",
        ).iter_rows():
            self.by_province.setdefault(prov, []).append(
                _Township(code, prov, w, is_sub, vlist, sp or [], int(cap))
            )
        # Designation order inside each province: famous townships first, then a weighted
        # random permutation favouring hot counties (Efraimidis-Spirakis keys).
        for prov, lst in self.by_province.items():
            keyed = []
            for tw in lst:
                key = (
                    2.0 if tw.code in famous_townships else rnd.random() ** (1.0 / tw.county_weight)
                )
                keyed.append((-key, tw.code, tw))
            keyed.sort(key=lambda k: (k[0], k[1]))
            self.by_province[prov] = [k[2] for k in keyed]
        self.townships = {tw.code: tw for lst in self.by_province.values() for tw in lst}

    # --- the township-level simulation -------------------------------------------------
    def plan_all(self, editions: list[int]) -> list[EditionPlan]:
        """Plans for ``editions`` (simulated in order from 2009 so persistence holds)."""
        targets = {e: edition_targets(e, self.scale) for e in range(2009, 2023)}
        sales_prev: set[str] = set()
        plans = []
        for e in range(2009, 2023):
            tg = targets[e]
            k_by_prov = self._cluster_split(tg)
            for prov in sorted(PROVINCES):
                self._step_province(prov, e, tg.provinces.get(prov, 0), k_by_prov.get(prov, 0))
            self._place_counties(e)
            self._ensure_pair(e)
            self._check_counties(e)
            sales = self._sales_towns(e, tg, sales_prev)
            sales_prev = set(sales)
            if e in editions:
                plans.append(self._edition_plan(e, tg, sales))
        return plans

    # --- counties: the published clusters ----------------------------------------------
    def _place_counties(self, e: int) -> None:
        """Move villages between the county-level units of each province so that the
        edition shows the published counties, cities and clusters (:mod:`.counties`),
        then deal each changed unit's villages to its townships, the province keeping its
        number of towns."""
        targets = county_targets(e, self.scale)
        if targets.empty:
            return
        by_county: dict[str, list[_Township]] = {}
        for tw in self.townships.values():
            by_county.setdefault(tw.code[:6], []).append(tw)
        counts = {c: sum(tw.c for tw in lst) for c, lst in by_county.items()}
        capacity = {c: sum(tw.cap for tw in lst) for c, lst in by_county.items()}
        placed = place(counts, capacity, targets, self.county_rnd)
        changed = {c for c in counts if placed[c] != counts[c]}
        for prov in sorted({c[:2] for c in changed}):
            units = {c: by_county[c] for c in by_county if c[:2] == prov}
            self._deal(e, units, {c: placed[c] for c in units}, changed)
        self.county_counts = placed

    def _check_counties(self, e: int) -> None:
        """The townships hold what the placement gave each unit (the town near miss moves
        a village only when no township has two: never once the counties are placed)."""
        if not self.county_counts:
            return
        held: dict[str, int] = {}
        for tw in self.townships.values():
            held[tw.code[:6]] = held.get(tw.code[:6], 0) + tw.c
        off = {c: (n, held.get(c, 0)) for c, n in self.county_counts.items() if held.get(c, 0) != n}
        if off:
            raise AssertionError(f"edition {e}: units placed, held: {dict(list(off.items())[:5])}")
        self.county_counts = {}

    def _deal(
        self,
        e: int,
        units: dict[str, list[_Township]],
        target: dict[str, int],
        changed: set[str],
    ) -> None:
        """Deal each changed unit's villages to its townships, keeping the province's
        number of towns (countable townships with >= 3 villages)."""

        def town(tw: _Township) -> bool:
            return tw.c >= 3 and self._countable(tw, e)

        k_total = sum(1 for lst in units.values() for tw in lst if town(tw))
        k: dict[str, int] = {}
        bounds: dict[str, tuple[int, int]] = {}
        for c, lst in units.items():
            now = sum(1 for tw in lst if town(tw))
            if c not in changed:
                k[c] = now
                bounds[c] = (now, now)
                continue
            t = target[c]
            can = sorted(
                (tw for tw in lst if self._countable(tw, e) and tw.cap >= 3),
                key=lambda tw: -(tw.cap - min(2, tw.cap)),
            )
            room = sum(
                min(2, tw.cap) if self._countable(tw, e) else tw.cap for tw in lst
            )  # without any town
            least = 0
            while room < t and least < len(can):
                room += can[least].cap - min(2, can[least].cap)
                least += 1
            if room < t:
                raise ValueError(f"edition {e}: unit {c} cannot hold {t} Taobao villages")
            most = min(t // 3, len(can))
            bounds[c] = (least, most)
            k[c] = min(max(now, least), most)
        gap = k_total - sum(k.values())
        order = sorted(changed & set(units), key=lambda c: (-target[c], c))
        while gap:
            step = 1 if gap > 0 else -1
            fit = [c for c in order if bounds[c][0] <= k[c] + step <= bounds[c][1]]
            if not fit:
                raise ValueError(f"edition {e}: province {next(iter(units))[:2]} loses a town")
            k[fit[0]] += step
            gap -= step
        for c in sorted(changed & set(units)):
            self._deal_unit(e, units[c], target[c], k[c])

    def _deal_unit(self, e: int, lst: list[_Township], t: int, k: int) -> None:
        """``t`` villages over the townships of one unit, exactly ``k`` of them towns:
        the largest townships stay towns and keep what they had, the rest goes to towns
        by attachment (weights: their villages), then to the others up to 2 each."""
        rnd = self.county_rnd
        countable = [tw for tw in lst if self._countable(tw, e)]
        can = sorted(
            (tw for tw in countable if tw.cap >= 3), key=lambda tw: (-tw.c, -tw.cap, tw.code)
        )
        towns = can[:k]

        def high(tw: _Township, chosen: list[_Township]) -> int:
            return tw.cap if tw in chosen or not self._countable(tw, e) else min(2, tw.cap)

        if sum(high(tw, towns) for tw in lst) < t:  # the roomiest ones must be the towns
            towns = sorted(can, key=lambda tw: (-tw.cap, tw.code))[:k]
        got = {tw.code: (3 if tw in towns else 0) for tw in lst}
        left = t - 3 * k
        for tw in sorted(lst, key=lambda tw: (-tw.c, tw.code)):  # keep what each had
            add = max(0, min(tw.c - got[tw.code], high(tw, towns) - got[tw.code], left))
            got[tw.code] += add
            left -= add
        while left > 0:
            big = [tw for tw in lst if got[tw.code] >= 3 and got[tw.code] < high(tw, towns)]
            big += [
                tw
                for tw in lst
                if not self._countable(tw, e) and got[tw.code] < 3 and got[tw.code] < tw.cap
            ]
            if big:
                tw = rnd.choices(big, weights=[got[t.code] + 1 for t in big])[0]
            else:
                small = [tw for tw in lst if got[tw.code] < high(tw, towns)]
                if not small:
                    raise ValueError(f"edition {e}: no township left for a village")
                tw = small[rnd.randrange(len(small))]
            got[tw.code] += 1
            left -= 1
        for tw in lst:
            tw.c = got[tw.code]

    def _ensure_pair(self, e: int) -> None:
        """Keep one township with exactly two Taobao villages (a town near miss)."""
        self.pair: str | None = None
        lst = sorted(
            (tw for tw in self.townships.values() if tw.c > 0 and not tw.is_sub),
            key=lambda t: t.code,
        )
        pairs = [tw for tw in lst if tw.c == 2]
        if pairs:
            self.pair = pairs[0].code
            return
        ones = [tw for tw in lst if tw.c == 1 and tw.cap >= 2]
        donors = [tw for tw in self.townships.values() if tw.c >= 4] + [
            tw for tw in self.townships.values() if tw.c == 1
        ]
        for target in ones:
            donor = next(
                (d for d in donors if d is not target and d.province == target.province), None
            )
            if donor is not None:
                donor.c -= 1
                target.c += 1
                self.pair = target.code
                return

    def _countable(self, tw: _Township, e: int) -> bool:
        return not (e >= NO_SUBDISTRICT_TOWNS_FROM and tw.is_sub)

    def _cluster_split(self, tg: EditionTargets) -> dict[str, int]:
        weights = {p: float(n) ** 1.1 for p, n in tg.provinces.items() if n >= 3}
        split = largest_remainder(tg.cluster_towns, weights)
        e = tg.edition

        def room_of(p: str) -> int:
            townships = sum(
                1 for tw in self.by_province.get(p, []) if tw.cap >= 3 and self._countable(tw, e)
            )
            return min(tg.provinces[p] // 3, townships)

        # Cap by what the province can hold (3 villages per cluster), pass the rest on.
        overflow = 0
        for p in sorted(split, key=lambda p: -tg.provinces[p]):
            cap = room_of(p)
            if split[p] > cap:
                overflow += split[p] - cap
                split[p] = cap
        for p in sorted(split, key=lambda p: -tg.provinces[p]):
            room = room_of(p) - split[p]
            add = min(room, overflow)
            split[p] += add
            overflow -= add
        if overflow:
            raise ValueError(f"edition {tg.edition}: cannot place {overflow} cluster towns")
        return split

    def _step_province(self, prov: str, e: int, n_target: int, k_target: int) -> None:
        rnd = self.rnd
        lst = self.by_province.get(prov, [])
        if not lst:
            if n_target:
                raise ValueError(f"province {prov} has no township for {n_target} villages")
            return
        # 1. churn: a few villages drop out.
        for tw in lst:
            if tw.c >= 4 and rnd.random() < 0.03 or tw.c in (1, 2) and rnd.random() < 0.02:
                tw.c -= 1
        countable = [tw for tw in lst if self._countable(tw, e)]
        clusters = [tw for tw in countable if tw.c >= 3]
        # 2. exactly k_target countable townships with >= 3 villages.
        while len(clusters) > k_target:
            tw = min(clusters, key=lambda t: (t.c, -lst.index(t)))
            tw.c = 2
            clusters.remove(tw)
        while len(clusters) < k_target:
            best = None
            for want in (2, 1, 0):
                best = next((t for t in countable if t.c == want and t.cap >= 3), None)
                if best is not None:
                    break
            if best is None:
                raise ValueError(f"edition {e}, province {prov}: no township for a cluster")
            best.c = 3
            clusters.append(best)
        # 3. exactly n_target villages.
        total = sum(tw.c for tw in lst)
        if total > n_target:
            for tw in sorted(lst, key=lambda t: -t.c):
                while total > n_target and tw.c > 3:
                    tw.c -= 1
                    total -= 1
            for tw in reversed(lst):
                protected = tw.c >= 3 and (self._countable(tw, e) or tw.c > 3)
                while total > n_target and tw.c > 0 and not protected:
                    tw.c -= 1
                    total -= 1
            if total > n_target:
                raise ValueError(f"edition {e}, province {prov}: too many villages planned")
        gap = n_target - total
        if gap > 0:
            grow = [tw for tw in lst if tw.c >= 3 and tw.c < tw.cap]
            n_grow = round(gap * 0.6) if grow else 0
            for _ in range(n_grow):
                grow = [tw for tw in grow if tw.c < tw.cap]
                if not grow:
                    break
                tw = rnd.choices(grow, weights=[t.c for t in grow])[0]
                tw.c += 1
                gap -= 1
            for want in (0, 1):
                for tw in lst:
                    if gap == 0:
                        break
                    if tw.c == want and tw.cap >= 2:
                        step = 2 if want == 0 and gap >= 2 and rnd.random() < 0.3 else 1
                        tw.c += step
                        gap -= step
            while gap > 0:
                grow = [tw for tw in lst if tw.c >= 3 and tw.c < tw.cap]
                if not grow:
                    raise ValueError(f"edition {e}, province {prov}: no room for villages")
                grow[rnd.randrange(len(grow))].c += 1
                gap -= 1

    def _sales_towns(self, e: int, tg: EditionTargets, prev: set[str]) -> list[str]:
        """Townships that qualify by the sales rule alone (from 2019).

        Split over provinces like the villages; a province short of candidates passes its
        share on to the provinces with the most villages. Last edition's sales towns stay
        sales towns while they can.
        """
        if e < SALES_RULE_FROM or tg.sales_towns == 0:
            return []
        need = tg.sales_towns - 1  # one is the reserved 'just_over_both' township
        split = largest_remainder(need, {p: float(n) for p, n in tg.provinces.items()})
        pools: dict[str, list[_Township]] = {}
        for prov in sorted(PROVINCES):
            lst = [
                tw
                for tw in self.by_province.get(prov, [])
                if not tw.is_sub
                and tw.c <= 2
                and tw.code != self.pair
                and (tw.spare or sum(1 for _ in tw.vcs) - tw.c >= 5)
            ]
            keep = [tw for tw in lst if tw.code in prev]
            rest = [tw for tw in lst if tw.code not in prev]
            pools[prov] = keep + rest
        chosen: list[str] = []
        short = 0
        for prov in sorted(split):
            want = split[prov]
            got = pools.get(prov, [])[:want]
            pools[prov] = pools.get(prov, [])[want:]
            short += want - len(got)
            chosen += [tw.code for tw in got]
        for prov in sorted(tg.provinces, key=lambda p: (-tg.provinces[p], p)) + sorted(pools):
            if short == 0:
                break
            got = pools.get(prov, [])[:short]
            pools[prov] = pools.get(prov, [])[len(got) :]
            short -= len(got)
            chosen += [tw.code for tw in got]
        if short:
            raise ValueError(f"edition {e}: {short} sales towns found no township")
        return chosen

    # --- unit-level plan ------------------------------------------------------------------
    def _edition_plan(self, e: int, tg: EditionTargets, sales: list[str]) -> EditionPlan:
        stream = Stream(self.seed, "plan", e)
        rnd = stream.python()
        hh = self.stable.select(
            "village_code",
            "township_code",
            "county_code",
            "unit_type",
            "famous",
            households_for(e).alias("households"),
        )
        exits = {c for c, x in self.exit_of.items() if x <= e}
        counts = {tw.code: tw.c for tw in self.townships.values() if tw.c > 0}
        designated: list[tuple[str, str]] = []
        for code, c in counts.items():
            vlist = [v for v in self.townships[code].vcs if v not in exits][:c]
            if len(vlist) < c:
                raise ValueError(f"edition {e}: township {code} lacks village committees")
            designated += [(v, code) for v in vlist]
        cluster_towns = [
            code
            for code, c in counts.items()
            if c >= 3 and self._countable(self.townships[code], e)
        ]
        town_set = set(cluster_towns) | set(sales)
        d = pl.DataFrame(designated, schema=["village_code", "township_code"], orient="row")
        d = d.join(hh.drop("township_code"), on="village_code", how="left").sort("village_code")
        subs = [code for code in counts if self.townships[code].is_sub]
        d = d.with_columns(
            small=pl.lit(e >= SALES_RULE_FROM)
            & ~pl.col("township_code").is_in(sorted(town_set))
            & ~(pl.lit(e >= NO_SUBDISTRICT_TOWNS_FROM) & pl.col("township_code").is_in(subs))
        )
        units = self._size_designated(d, tg, stream, rnd)
        overrides: dict[str, int] = {}
        units, overrides = self._apply_boundaries(units, rnd, overrides)
        units = self._allocate_budget(units, tg, stream)
        near, near_counts = self._near_misses(e, rnd, hh, overrides)
        town_cases, town_rows = self._town_cases(e, tg)
        background = self._background(
            e, stream, hh, set(units["village_code"].to_list()), counts, town_set
        )
        others_in_towns = (
            sum(
                int(r["revenue_cents"])
                for r in town_cases.to_dicts()
                if str(r["village_code"])[:9] in town_rows
            )
            if town_cases.height
            else 0
        )
        contrib = self._contributors(e, tg, units, others_in_towns, town_set, sales, stream)
        frames = [units, near, town_cases, background, contrib]
        all_units = pl.concat([f for f in frames if f.height], how="diagonal_relaxed")
        all_units = self._inactive_mix(all_units, stream).sort("village_code")
        if all_units["village_code"].is_duplicated().any():
            raise AssertionError(f"edition {e}: a unit is planned twice")
        towns = sorted(cluster_towns + sales + town_rows)
        plan = EditionPlan(
            targets=tg,
            units=all_units,
            households=pl.DataFrame(
                list(overrides.items()), schema=["village_code", "households"], orient="row"
            ),
            towns=towns,
            cluster_towns=sorted(cluster_towns),
            sales_towns=sorted(sales + town_rows),
            near_misses=near_counts,
        )
        self._check(plan, hh)
        return plan

    def _size_designated(
        self, d: pl.DataFrame, tg: EditionTargets, stream: Stream, rnd: random.Random
    ) -> pl.DataFrame:
        n = d.height
        u1, u2, u3 = stream.uniform(n), stream.uniform(n), stream.uniform(n)
        d = d.with_columns(u1.alias("_u1"), u2.alias("_u2"), u3.alias("_u3"))
        h = pl.col("households")
        density_min = (h * 0.105).ceil().cast(pl.Int64) + 1
        small_density = pl.col("small") & (h > 0) & (h < 900) & (pl.col("_u3") < 0.4)
        return d.with_columns(
            role=pl.lit("designated"),
            case=pl.lit(""),
            designated=pl.lit(True),
            fixed_revenue=pl.col("small"),
            fixed_active=pl.col("small"),
            revenue_cents=pl.when(pl.col("small"))
            .then((1_060_000_000 + pl.col("_u1") * 380_000_000).floor().cast(pl.Int64))
            .otherwise(pl.lit(None, pl.Int64)),
            active=pl.when(small_density)
            .then(density_min + (pl.col("_u2") * 6).floor().cast(pl.Int64))
            .when(pl.col("small"))
            .then((105 + pl.col("_u2") * 115).floor().cast(pl.Int64))
            .otherwise(pl.lit(None, pl.Int64)),
            active_min=pl.when((h > 0) & (h < 940))
            .then(pl.max_horizontal(pl.lit(12, pl.Int64), density_min))
            .otherwise(pl.lit(105, pl.Int64)),
            specials=pl.lit([], pl.List(pl.String)),
        ).drop("_u1", "_u2", "_u3")

    def _apply_boundaries(
        self, units: pl.DataFrame, rnd: random.Random, overrides: dict[str, int]
    ) -> tuple[pl.DataFrame, dict[str, int]]:
        pool = units.filter(~pl.col("famous"))["village_code"].to_list()
        rnd.shuffle(pool)
        rows = {r["village_code"]: r for r in units.to_dicts()}
        for name, spec in BOUNDARIES.items():
            for _ in range(self.reps):
                if not pool:
                    break
                code = pool.pop()
                r = rows[code]
                r["role"] = "boundary"
                r["case"] = name
                if spec.revenue is not None:
                    r["revenue_cents"] = spec.revenue[0]
                    r["fixed_revenue"] = True
                if spec.active is not None:
                    lo, hi = spec.active
                    r["active"] = rnd.randint(lo, hi)
                    r["fixed_active"] = True
                r["specials"] = list(spec.specials)
                hh = r["households"]
                if spec.households == "min1500":
                    hh = max(hh, 1500)
                elif spec.households == "zero":
                    hh = 0
                elif spec.households == "10x":
                    hh = 10 * (r["active"] + self._special_active(spec.specials))
                r["households"] = hh
                overrides[code] = hh
        out = pl.DataFrame(list(rows.values()), schema=units.schema)
        return out, overrides

    @staticmethod
    def _special_active(specials: tuple[str, ...] | list[str]) -> int:
        return sum(1 for s in specials if SPECIAL_SHOPS[s].active)

    def _allocate_budget(
        self, units: pl.DataFrame, tg: EditionTargets, stream: Stream
    ) -> pl.DataFrame:
        """Spread the edition's revenue and active-shop totals over the designated units."""
        n = units.height
        z1, z2 = stream.normal(n), stream.normal(n)
        # The tail's own stream: the plan's other draws stay as they were.
        v = Stream(self.seed, "plan", tg.edition, "revenue-tail").uniform(n)
        units = units.with_columns(z1.alias("_z1"), z2.alias("_z2"), v.alias("_v"))
        units = units.with_columns(_w=_revenue_weight(pl.col("_z1"), pl.col("_v"))).with_columns(
            _wa=(pl.col("_w") ** 0.85 * (0.25 * pl.col("_z2")).exp()),
        )
        specials_active = units.select(_special_active_expr()).to_series()
        units = units.with_columns(specials_active.alias("_sa"))
        fixed_r = units.filter(pl.col("fixed_revenue"))["revenue_cents"].sum()
        free_r = units.filter(~pl.col("fixed_revenue"))
        r_min = 1_100_000_000
        budget_r = tg.revenue_cents - fixed_r - free_r.height * r_min
        if budget_r < 0:
            raise ValueError(f"edition {tg.edition}: revenue target too small for the villages")
        w_sum = free_r["_w"].sum()
        fixed_a = (
            units.filter(pl.col("fixed_active"))
            .select((pl.col("active") + pl.col("_sa")).sum())
            .item()
        )
        free_a = units.filter(~pl.col("fixed_active"))
        budget_a = tg.active_shops - fixed_a - free_a["active_min"].sum()
        if budget_a < 0:
            raise ValueError(f"edition {tg.edition}: active-shop target too small")
        wa_sum = free_a["_wa"].sum()
        units = units.with_columns(
            revenue_cents=pl.when(pl.col("fixed_revenue"))
            .then(pl.col("revenue_cents"))
            .otherwise((r_min + budget_r * pl.col("_w") / w_sum).floor().cast(pl.Int64)),
            _araw=pl.when(pl.col("fixed_active"))
            .then(pl.lit(0.0))
            .otherwise(budget_a * pl.col("_wa") / wa_sum),
        )
        # Integer active shops with an exact total (largest remainder, ties by code).
        units = units.with_columns(_afloor=pl.col("_araw").floor().cast(pl.Int64))
        rest = budget_a - int(units["_afloor"].sum())
        units = units.with_columns(_frac=pl.col("_araw") - pl.col("_afloor")).with_columns(
            _rank=pl.struct(pl.col("_frac"), pl.col("village_code")).rank(
                "ordinal", descending=True
            )
        )
        units = units.with_columns(
            active=pl.when(pl.col("fixed_active"))
            .then(pl.col("active"))
            .otherwise(
                pl.col("active_min")
                + pl.col("_afloor")
                + (pl.col("_rank") <= rest).cast(pl.Int64)
                - pl.col("_sa")
            )
        )
        return units.drop(
            "_z1",
            "_z2",
            "_v",
            "_w",
            "_wa",
            "_araw",
            "_afloor",
            "_frac",
            "_rank",
            "_sa",
            "active_min",
            "fixed_revenue",
            "fixed_active",
        )

    def _near_misses(
        self, e: int, rnd: random.Random, hh: pl.DataFrame, overrides: dict[str, int]
    ) -> tuple[pl.DataFrame, dict[str, int]]:
        codes = [got[0][1] for got in self.reserved_units.values()]
        house = dict(
            hh.filter(pl.col("village_code").is_in(codes))
            .select("village_code", "households")
            .rows()
        )
        rows = []
        counts: dict[str, int] = {}
        for key, got in self.reserved_units.items():
            name = key.split("#")[0]
            if name not in NEAR_MISSES:
                continue
            spec = NEAR_MISSES[name]
            code = got[0][1]
            assert spec.revenue is not None and spec.active is not None
            active = rnd.randint(*spec.active)
            h = house[code]
            if spec.households == "min1500":
                h = max(h, 1500)
            elif spec.households == "zero":
                h = 0
            elif spec.households == "10x+1":
                h = 10 * (active + self._special_active(spec.specials)) + 1
            overrides[code] = h
            rows.append(
                {
                    "village_code": code,
                    "role": "nearmiss",
                    "case": name,
                    "designated": False,
                    "revenue_cents": rnd.randint(*spec.revenue),
                    "active": active,
                    "specials": list(spec.specials),
                    "households": h,
                }
            )
            counts[name] = counts.get(name, 0) + 1
        return pl.DataFrame(rows), counts

    def _town_cases(self, e: int, tg: EditionTargets) -> tuple[pl.DataFrame, list[str]]:
        if e < SALES_RULE_FROM:
            return pl.DataFrame(), []
        rows = []
        towns = []
        for name, (is_town, parts) in TOWN_CASES.items():
            if is_town and tg.sales_towns == 0:
                continue
            got = self.reserved_units[name]
            for (kind, revenue, active), (_, code) in zip(parts, got, strict=True):
                rows.append(
                    {
                        "village_code": code,
                        "role": "town_boundary" if is_town else "town_nearmiss",
                        "case": name,
                        "designated": False,
                        "revenue_cents": revenue,
                        "active": active,
                        "specials": [],
                        "unit_type": kind,
                    }
                )
            if is_town:
                towns.append(got[0][1][:9])
        return pl.DataFrame(rows), towns

    def _background(
        self,
        e: int,
        stream: Stream,
        hh: pl.DataFrame,
        taken: set[str],
        counts: dict[str, int],
        town_set: set[str],
    ) -> pl.DataFrame:
        """Sparse small sellers in about 1.5% of the other units."""
        small_townships = (
            {t for t, c in counts.items() if c in (1, 2) and t not in town_set}
            if e >= SALES_RULE_FROM
            else set()
        )
        excluded = self.reserved_townships | small_townships | town_set
        cand = hh.filter(
            ~pl.col("township_code").is_in(list(excluded))
            & ~pl.col("village_code").is_in(list(taken))
        )
        u = stream.uniform(cand.height)
        cand = cand.with_columns(u.alias("_u")).filter(pl.col("_u") < 0.015)
        n = cand.height
        r = stream.uniform(n)
        a = stream.uniform(n)
        return cand.select(
            "village_code",
            pl.lit("background").alias("role"),
            pl.lit("").alias("case"),
            pl.lit(False).alias("designated"),
            (200_000 + r * 29_800_000).floor().cast(pl.Int64).alias("revenue_cents"),
            (1 + a * 3).floor().cast(pl.Int64).alias("active"),
            pl.lit([], pl.List(pl.String)).alias("specials"),
        )

    def _contributors(
        self,
        e: int,
        tg: EditionTargets,
        units: pl.DataFrame,
        others_in_towns: int,
        town_set: set[str],
        sales: list[str],
        stream: Stream,
    ) -> pl.DataFrame:
        """Sales of the other units of Taobao towns (and what makes sales towns qualify).

        Non-designated units of every Taobao town sell, together, ``TOWN_EXTRA_SHARE`` of the
        villages' sales (so the villages-and-towns total is known exactly); a sales town's
        share is first spent on reaching the sales rule with a margin.
        """
        if not town_set:
            return pl.DataFrame()
        rnd = stream.python()
        with_sa = units.with_columns(sa=_special_active_expr())
        by_t = with_sa.group_by("township_code").agg(
            pl.col("revenue_cents").sum().alias("r"),
            (pl.col("active") + pl.col("sa")).sum().alias("a"),
        )
        r_by_t = {t: int(r) for t, r, _ in by_t.rows()}
        a_by_t = {t: int(a) for t, _, a in by_t.rows()}
        designated = set(units["village_code"].to_list())
        v_total = int(units["revenue_cents"].sum())
        budget = tg.union_revenue_cents - v_total - others_in_towns
        rows: list[dict[str, object]] = []
        sales_set = set(sales)
        towns = sorted(town_set)
        big = 10**15
        # Slots per town: residents' committees / other units first, else spare committees.
        slots: dict[str, list[tuple[str, int]]] = {}
        for t in towns:
            tw = self.townships[t]
            if tw.spare:
                slots[t] = [(c, big) for c in tw.spare[:3]]
            else:
                free = [c for c in tw.vcs if c not in designated]
                slots[t] = [(c, 950_000_000) for c in free[:6]]
        # Sales towns first: reach the rule with a margin.
        alloc_r = dict.fromkeys(towns, 0)
        alloc_a = dict.fromkeys(towns, 0)
        for t in towns:
            if t not in sales_set:
                continue
            cap = sum(c for _, c in slots[t])
            r_goal = min(3_600_000_000 + rnd.randint(0, 2_000_000_000), cap + r_by_t.get(t, 0))
            a_goal = 340 + rnd.randint(0, 120)
            alloc_r[t] = max(0, r_goal - r_by_t.get(t, 0))
            alloc_a[t] = max(0, a_goal - a_by_t.get(t, 0))
            if r_by_t.get(t, 0) + alloc_r[t] <= TOWN_REVENUE + 100_000_000:
                raise ValueError(f"edition {e}: sales town {t} cannot reach the sales rule")
        extra = budget - sum(alloc_r.values())
        if extra < 0:
            if tg.edition == SALES_RULE_FROM:
                raise ValueError(f"edition {e}: sales towns need more than the union allows")
            extra = 0
        weights = {t: float(r_by_t.get(t, 0) + 2_000_000_000) for t in towns}
        w_sum = sum(weights.values())
        share = {t: int(extra * weights[t] / w_sum) for t in towns}
        share[towns[0]] += extra - sum(share.values())
        leftover = 0
        for t in towns:
            room = sum(c for _, c in slots[t]) - alloc_r[t]
            add = max(0, min(room, share[t] + leftover))
            leftover = share[t] + leftover - add
            alloc_r[t] += add
        for t in towns:  # second pass: what capped towns could not hold
            room = sum(c for _, c in slots[t]) - alloc_r[t]
            add = max(0, min(room, leftover))
            alloc_r[t] += add
            leftover -= add
        if leftover:
            raise ValueError(f"edition {e}: {leftover} cents of town sales found no unit")
        for t in towns:
            if not slots[t]:
                if alloc_r[t] or alloc_a[t]:
                    raise ValueError(f"edition {e}: town {t} has no unit to sell")
                continue
            amounts = _water_fill(alloc_r[t], [c for _, c in slots[t]], rnd)
            n_s = len(slots[t])
            for (code, _), r in zip(slots[t], amounts, strict=True):
                a = max(3, math.ceil(alloc_a[t] / n_s), round(r / YUAN / rnd.uniform(8e5, 2e6)))
                rows.append(
                    {
                        "village_code": code,
                        "role": "contributor",
                        "case": "",
                        "designated": False,
                        "revenue_cents": r,
                        "active": a,
                        "specials": [],
                    }
                )
        return pl.DataFrame(rows)

    def _inactive_mix(self, units: pl.DataFrame, stream: Stream) -> pl.DataFrame:
        """Inactive shops by kind for every unit (near-miss units get few and fixed)."""
        n = units.height
        us = [stream.uniform(n) for _ in range(4)]
        units = units.with_columns(*[u.alias(f"_i{i}") for i, u in enumerate(us)])
        a = pl.col("active").cast(pl.Float64)
        plain = pl.col("role").is_in(["designated", "contributor", "background", "boundary"])
        bg = pl.col("role") == "background"

        def mix(lo: float, span: float, col: str) -> pl.Expr:
            val = (a * (lo + span * pl.col(col))).round().cast(pl.Int64)
            return (
                pl.when(bg)
                .then((pl.col(col) < 0.3).cast(pl.Int64))
                .when(plain)
                .then(val)
                .otherwise(pl.lit(2, pl.Int64))
            )

        return (
            units.with_columns(
                n_closed=mix(0.02, 0.04, "_i0"),
                n_new=mix(0.0, 0.02, "_i1"),
                n_dormant=mix(0.01, 0.03, "_i2"),
                n_low=mix(0.0, 0.02, "_i3"),
            )
            .drop("_i0", "_i1", "_i2", "_i3")
            .with_columns(
                township_code=pl.col("village_code").str.slice(0, 9),
                planned_active=pl.col("active") + _special_active_expr(),
            )
        )

    # --- self-check -----------------------------------------------------------------------
    def _check(self, plan: EditionPlan, hh: pl.DataFrame) -> None:
        """Recompute designations from the planned numbers with the contract's rules."""
        e = plan.edition
        codes = plan.units["village_code"].to_list()
        house = hh.filter(pl.col("village_code").is_in(codes)).select(
            "village_code", pl.col("households").alias("_h0")
        )
        u = (
            plan.units.join(house, on="village_code", how="left")
            .join(plan.households.rename({"households": "_h1"}), on="village_code", how="left")
            .with_columns(
                h=pl.coalesce("_h1", "_h0"),
                vnum=pl.col("village_code").str.slice(9, 3).cast(pl.Int32),
            )
        )
        rule = (
            (pl.col("vnum") >= 200)
            & (pl.col("vnum") <= 399)
            & (pl.col("revenue_cents") >= VILLAGE_REVENUE)
            & (
                (pl.col("planned_active") >= 100)
                | ((pl.col("h") > 0) & (pl.col("planned_active") * 10 >= pl.col("h")))
            )
        )
        u = u.with_columns(rule=rule)
        bad = u.filter(pl.col("rule") != pl.col("designated"))
        if bad.height:
            raise AssertionError(f"edition {e}: plan inconsistent for villages {bad.head(5)}")
        tg = plan.targets
        if u["designated"].sum() != tg.villages:
            raise AssertionError(f"edition {e}: {u['designated'].sum()} villages planned")
        prov = (
            u.filter(pl.col("designated"))
            .group_by(pl.col("village_code").str.slice(0, 2).alias("p"))
            .len()
        )
        got = dict(prov.rows())
        if got != tg.provinces:
            raise AssertionError(f"edition {e}: provinces {got} != {tg.provinces}")
        t = (
            u.group_by("township_code")
            .agg(
                pl.col("designated").sum().alias("nv"),
                pl.col("revenue_cents").sum().alias("r"),
                pl.col("planned_active").sum().alias("a"),
            )
            .with_columns(
                sub=pl.col("township_code").str.slice(6, 3).cast(pl.Int32) < 100,
            )
        )
        town = pl.col("nv") >= 3
        if e >= SALES_RULE_FROM:
            town = town | ((pl.col("r") > TOWN_REVENUE) & (pl.col("a") > 300))
        if e >= NO_SUBDISTRICT_TOWNS_FROM:
            town = town & ~pl.col("sub")
        computed = sorted(t.filter(town)["township_code"].to_list())
        if computed != plan.towns or len(computed) != tg.towns:
            raise AssertionError(
                f"edition {e}: towns {len(computed)} computed, {len(plan.towns)} planned, "
                f"{tg.towns} targeted"
            )
        active = int(u.filter(pl.col("designated"))["planned_active"].sum())
        if abs(active - tg.active_shops) > max(2, tg.active_shops * 0.002):
            raise AssertionError(f"edition {e}: {active} active shops vs {tg.active_shops}")


def _revenue_weight(z: pl.Expr, v: pl.Expr) -> pl.Expr:
    """A village's share weight: ``exp(sigma z)`` up to the knee, a truncated Pareto above.

    ``z`` is standard normal, ``v`` uniform in [0, 1). The tail starts at the body's value at
    the knee (so the weight is continuous in distribution) and ends at ``TAIL_MAX``; the
    weights are continuous draws, so no two villages share one.
    """
    knee = math.exp(REVENUE_SIGMA * TAIL_KNEE_Z)
    s_min = (knee / TAIL_MAX) ** TAIL_ALPHA
    tail = knee * (s_min + (1.0 - s_min) * v) ** (-1.0 / TAIL_ALPHA)
    return pl.when(z > TAIL_KNEE_Z).then(tail).otherwise((REVENUE_SIGMA * z).exp())


def _special_active_expr() -> pl.Expr:
    """Number of active special shops in the ``specials`` list column."""
    names = [k for k, v in SPECIAL_SHOPS.items() if v.active]
    return pl.col("specials").list.eval(pl.element().is_in(names)).list.sum().cast(pl.Int64)


def _water_fill(total: int, caps: list[int], rnd: random.Random) -> list[int]:
    """Split ``total`` over slots with random shares, no slot above its cap (exact sum)."""
    parts = [rnd.random() + 0.3 for _ in caps]
    amounts = [0] * len(caps)
    left = total
    for _ in range(4):
        open_idx = [i for i, c in enumerate(caps) if amounts[i] < c]
        if left <= 0 or not open_idx:
            break
        p_sum = sum(parts[i] for i in open_idx)
        for i in open_idx:
            amounts[i] += min(int(left * parts[i] / p_sum), caps[i] - amounts[i])
        left = total - sum(amounts)
    for i, c in enumerate(caps):
        give = min(left, c - amounts[i])
        amounts[i] += give
        left -= give
    if left:
        raise ValueError("slots cannot hold the total")
    return amounts


def make_plans(geo: Geography, editions: list[int], scale: float, seed: int) -> list[EditionPlan]:
    """Plans for the requested editions."""
    return Planner(geo, scale, seed).plan_all(sorted(editions))


__all__ = ["EditionPlan", "Planner", "SPECIAL_SHOPS", "make_plans", "households_for"]
