"""Where the villages of an edition lie by county: the published clusters and counties.

The township simulation of :mod:`.plan` keeps each province's villages and towns exact; this
module then moves villages between the county-level units of a province so that, at scale
1.0, the edition shows what AliResearch published of its clusters: the counties and
prefecture-level cities it names, the number of clusters of each tier (>= 10, >= 30, >= 100
Taobao villages in one county-level unit, which stands in for "adjoining") and the share of
villages inside clusters. Moves stay inside a province, so no provincial or national count
changes; :func:`place` in :mod:`.plan` then re-deals the moved villages to townships,
keeping the province's number of towns.

The targets come in three kinds, applied in this order, each step keeping what the earlier
ones fixed:

1. exact counts of named counties (published, else the generator's stand-ins in
   :mod:`.priors`), and of prefecture-level cities;
2. the number of clusters of each tier, from the top tier down;
3. the share of villages inside clusters.

Steps 2 and 3 move villages only between "free" units of one group: a prefecture whose
count is fixed, or the rest of the province, so a fixed sum never moves.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from taobao_pipeline.published_record import area_figures
from taobao_pipeline.published_record import figure as published

from .priors import CLUSTERS_STAND_INS, COUNTY_STAND_INS, SHARE_IN_CLUSTERS_STAND_INS

#: AliResearch's tiers: a cluster, a large and a super-large one.
TIERS = (10, 30, 100)
_BOUNDS = (0, *TIERS)


@dataclass(frozen=True)
class CountyTargets:
    """What one edition must show by county (empty: the simulation's own placement)."""

    edition: int
    counties: dict[str, int] = field(default_factory=dict)  # county code -> villages
    prefectures: dict[str, int] = field(default_factory=dict)  # prefecture code -> villages
    tiers: dict[int, int] = field(default_factory=dict)  # threshold -> units at or above
    share: float | None = None  # villages in clusters / villages

    @property
    def empty(self) -> bool:
        """No target at all."""
        return not (self.counties or self.prefectures or self.tiers or self.share is not None)


def county_targets(edition: int, scale: float) -> CountyTargets:
    """The targets of ``edition`` at ``scale``: none but at scale 1.0. The tiers' thresholds
    are absolute (10, 30, 100 villages), so they do not scale, and a named county scaled
    down to a village or two says nothing: smaller scales keep the simulation's placement."""
    if scale != 1.0:
        return CountyTargets(edition)
    counties = {c: v for (e, c), (v, _) in COUNTY_STAND_INS.items() if e == edition}
    counties |= area_figures(edition, "county")
    prefectures = area_figures(edition, "prefecture")
    tiers = {
        t: n
        for t, measure in zip(
            TIERS, ("clusters", "large_clusters", "super_large_clusters"), strict=True
        )
        if (n := published(edition, measure)) is not None
    }
    if edition in CLUSTERS_STAND_INS and TIERS[0] not in tiers:
        tiers[TIERS[0]] = CLUSTERS_STAND_INS[edition]
    share = published(edition, "share_in_clusters") or SHARE_IN_CLUSTERS_STAND_INS.get(edition)
    return CountyTargets(
        edition,
        counties,
        prefectures,
        tiers,
        share / 100 if share is not None else None,
    )


def _floor(x: int) -> int:
    """The tier threshold a unit with ``x`` villages stands on (0 below a cluster)."""
    return max(b for b in _BOUNDS if b <= x)


def _ceiling(x: int) -> int:
    """The most villages a unit with ``x`` can hold without reaching the next tier."""
    above = [b for b in TIERS if b > x]
    return above[0] - 1 if above else 10**9


class Placement:
    """Villages per county-level unit, moved within provinces towards the targets."""

    def __init__(
        self,
        counts: dict[str, int],
        capacity: dict[str, int],
        targets: CountyTargets,
        rnd: random.Random,
    ) -> None:
        self.n = dict(counts)
        self.cap = capacity
        self.t = targets
        self.rnd = rnd
        self.fixed = {c for c in targets.counties if c in capacity}
        self.groups = {
            c: c[:4] if c[:4] in targets.prefectures else c[:2] for c in capacity
        }  # the unit's group: its fixed prefecture, else its province

    # --- moves -------------------------------------------------------------------------
    def _free(self, where: Callable[[str], bool]) -> list[str]:
        return sorted(c for c in self.cap if c not in self.fixed and where(c))

    def _keep_low(self, c: str) -> int:
        return _floor(self.n[c])

    def _keep_high(self, c: str) -> int:
        return min(self.cap[c], _ceiling(self.n[c]))

    def _spare_below_100(self, c: str) -> int:
        # the super-large clusters keep their villages: they are the story of the record
        return self.n[c] if self.n[c] >= TIERS[-1] else self._keep_low(c)

    def _move(
        self,
        donors: list[str],
        receivers: list[str],
        need: int,
        low: Callable[[str], int] | None = None,
        high: Callable[[str], int] | None = None,
    ) -> int:
        """Move up to ``need`` villages from ``donors`` to ``receivers`` (one province: the
        caller's choice), no donor below ``low`` and no receiver above ``high`` (by default:
        no unit crosses a tier threshold). A receiver already holding villages first (a
        cluster grows by attachment). Villages moved."""
        low = low or self._keep_low
        high = high or self._keep_high
        moved = 0
        while moved < need:
            d = [c for c in donors if self.n[c] > low(c)]
            r = [c for c in receivers if self.n[c] < high(c)]
            if not d or not r:
                break
            # the donor with the most to spare for its size, a quarter of it at a time:
            # the largest clusters do not pay for everyone's moves
            donor = max(d, key=lambda c: ((self.n[c] - low(c)) / self.n[c], c))
            receiver = max(r, key=lambda c: (self.n[c] > 0, self.rnd.random()))
            spare = self.n[donor] - low(donor)
            step = min(need - moved, max(1, spare // 4), high(receiver) - self.n[receiver])
            self.n[donor] -= step
            self.n[receiver] += step
            moved += step
        return moved

    def _set(self, unit: str, value: int, pool: list[str]) -> int:
        """Move ``unit`` towards ``value`` from or to ``pool``, tiers of the pool kept while
        possible; villages moved."""
        delta = value - self.n[unit]
        if delta > 0:
            to = lambda c: value if c == unit else self._keep_high(c)  # noqa: E731
            got = self._move(pool, [unit], delta, high=to)
            return got + self._move(pool, [unit], delta - got, low=lambda c: 0, high=to)
        down = lambda c: value if c == unit else self._keep_low(c)  # noqa: E731
        got = self._move([unit], pool, -delta, low=down)
        return got + self._move([unit], pool, -delta - got, low=down, high=lambda c: self.cap[c])

    # --- the three steps ---------------------------------------------------------------
    def fix_named(self) -> None:
        """The named counties exactly, then the named prefecture-level cities."""
        for unit, value in sorted(self.t.counties.items()):
            if unit not in self.cap:
                continue
            # from the rest of its province (its prefecture is settled next)
            pool = self._free(lambda c, u=unit: c[:2] == u[:2] and c != u)
            self._set(unit, value, pool)
            if self.n[unit] != value:
                raise ValueError(
                    f"edition {self.t.edition}: unit {unit} cannot hold {value} Taobao villages"
                )
        for pref, value in sorted(self.t.prefectures.items()):
            inside = self._free(lambda c, p=pref: c[:4] == p)
            # the rest of the province, other fixed prefectures apart
            outside = self._free(lambda c, p=pref: self.groups[c] == p[:2])
            delta = value - sum(self.n[c] for c in self.cap if c[:4] == pref)
            if delta > 0:
                got = self._move(outside, inside, delta)
                got += self._move(outside, inside, delta - got, low=lambda c: 0)
                got += self._move(
                    outside, inside, delta - got, low=lambda c: 0, high=lambda c: self.cap[c]
                )
            else:
                got = self._move(inside, outside, -delta)
                got += self._move(inside, outside, -delta - got, low=lambda c: 0)
                got += self._move(
                    inside, outside, -delta - got, low=lambda c: 0, high=lambda c: self.cap[c]
                )
            if got != abs(delta):
                raise ValueError(f"edition {self.t.edition}: prefecture {pref} cannot hold {value}")

    def fix_tiers(self) -> None:
        """Exactly the published number of units at or above each tier, top tier first."""
        for tier in sorted(self.t.tiers, reverse=True):
            self._settle_tier(tier, self.t.tiers[tier])

    def _settle_tier(self, tier: int, want: int) -> None:
        """``want`` units at or above ``tier``: one unit at a time drops just below it (the
        smallest) or rises to it (the largest below), its group giving or taking the
        difference without any other unit crossing a threshold."""
        upper = min((b for b in TIERS if b > tier), default=10**9)
        for _ in range(10_000):
            have = sum(1 for c in self.cap if self.n[c] >= tier)
            if have == want:
                return
            if have > want:
                free = self._free(lambda c: tier <= self.n[c] < upper)
                if not free:
                    raise ValueError(f"edition {self.t.edition}: too many units >= {tier}")
                unit = min(free, key=lambda c: (self.n[c], c))
                bound = tier - 1
            else:
                below = self._free(lambda c: self.n[c] < tier <= self.cap[c])
                unit = max(below, key=lambda c: (self.n[c], c))
                bound = tier
            pool = self._free(lambda c, u=unit: self.groups[c] == self.groups[u] and c != u)
            need = abs(self.n[unit] - bound)
            if have > want:
                low = lambda c, u=unit, b=bound: b if c == u else self._keep_low(c)  # noqa: E731
                got = self._move([unit], pool, need, low=low)
            else:
                high = lambda c, u=unit, b=bound: b if c == u else self._keep_high(c)  # noqa: E731
                got = self._move(pool, [unit], need, high=high)
            if got != need:
                raise ValueError(f"edition {self.t.edition}: unit {unit} cannot cross {tier}")
        raise ValueError(f"edition {self.t.edition}: tier {tier} does not settle")

    def fix_share(self) -> None:
        """The share of villages inside clusters, to the village, tiers kept."""
        if self.t.share is None:
            return
        want = round(self.t.share * sum(self.n.values()))
        inside = sum(v for v in self.n.values() if v >= TIERS[0])
        groups = sorted(set(self.groups.values()))
        self.rnd.shuffle(groups)
        for group in groups:
            gap = want - inside
            if gap == 0:
                break
            clusters = self._free(lambda c, g=group: self.groups[c] == g and self.n[c] >= 10)
            others = self._free(lambda c, g=group: self.groups[c] == g and self.n[c] < 10)
            if gap < 0:  # villages leave clusters below 100 for units below 10
                inside -= self._move(clusters, others, -gap, low=self._spare_below_100)
            else:
                inside += self._move(others, clusters, gap)
        if inside != want:
            raise ValueError(
                f"edition {self.t.edition}: {inside} villages in clusters, {want} wanted"
            )


def place(
    counts: dict[str, int], capacity: dict[str, int], targets: CountyTargets, rnd: random.Random
) -> dict[str, int]:
    """New villages per county-level unit: the targets met, provincial totals unchanged."""
    p = Placement(counts, capacity, targets, rnd)
    p.fix_named()
    p.fix_tiers()
    p.fix_share()
    return p.n
