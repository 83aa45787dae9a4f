"""Per-edition targets at a given scale, derived from the published record."""

from __future__ import annotations

from dataclasses import dataclass

from taobao_pipeline.published_record import province_figures
from taobao_pipeline.rules import DEFAULT

from .priors import CLUSTER_TOWNS, TOWN_EXTRA_SHARE, province_weights
from .priors import target_figure as figure

#: First edition with the town sales rule; first edition where sub-districts are never towns.
SALES_RULE_FROM = DEFAULT.town_sales_rule_from
NO_SUBDISTRICT_TOWNS_FROM = DEFAULT.subdistricts_excluded_from


@dataclass(frozen=True)
class EditionTargets:
    """What the plan of one edition must produce (exactly, except money and shops)."""

    edition: int
    villages: int
    towns: int
    cluster_towns: int
    provinces: dict[str, int]
    published_provinces: frozenset[str]
    revenue_cents: int
    active_shops: int
    union_revenue_cents: int

    @property
    def sales_towns(self) -> int:
        """Towns that must qualify by the sales rule alone."""
        return self.towns - self.cluster_towns


def largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` into integers proportional to ``weights`` (exact sum, ties by key)."""
    s = sum(weights.values())
    if total <= 0 or s <= 0:
        return dict.fromkeys(weights, 0)
    raw = {k: total * w / s for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[:rest]:
        out[k] += 1
    return out


def _scaled(value: int, scale: float) -> int:
    return int(value * scale + 0.5)


def edition_targets(edition: int, scale: float) -> EditionTargets:
    """Targets for ``edition`` at ``scale`` (exactly the published record at scale 1.0)."""
    villages_full = figure(edition, "taobao_villages")
    towns_full = figure(edition, "taobao_towns")
    revenue_full = figure(edition, "revenue_rmb")
    active_full = figure(edition, "active_shops")
    if villages_full is None or towns_full is None or revenue_full is None or active_full is None:
        raise ValueError(f"no published or planned figures for edition {edition}")
    villages = max(1, _scaled(villages_full, scale)) if villages_full else 0
    published = province_figures(edition)
    fixed = {k: _scaled(v, scale) for k, v in published.items()}
    # Keep the published part within the total (only bites at tiny scales).
    while sum(fixed.values()) > villages:
        k = min(fixed, key=lambda k: (published[k] * scale - fixed[k] + 1, k))
        fixed[k] -= 1
    weights = {k: w for k, w in province_weights(edition).items() if k not in published}
    rest = largest_remainder(villages - sum(fixed.values()), weights)
    provinces = {**fixed, **rest}
    provinces = {k: v for k, v in provinces.items() if v > 0}
    # a cluster town is 3 Taobao villages of one province: at tiny scales the provinces'
    # villages may hold fewer clusters than the scaled record (2014 at scale 0.03)
    room = sum(n // 3 for n in provinces.values())
    cluster = min(_scaled(CLUSTER_TOWNS[edition], scale), villages // 3, room)
    if edition < SALES_RULE_FROM:
        cluster = min(cluster, _scaled(towns_full, scale))
        towns = cluster
    else:
        towns = max(_scaled(towns_full, scale), cluster)
    ratio = villages / villages_full
    revenue_cents = round(revenue_full * 100 * ratio)
    active = round(active_full * ratio)
    union = figure(edition, "revenue_rmb_villages_and_towns")
    union_cents = (
        round(union * 100 * ratio) if union else round(revenue_cents * (1 + TOWN_EXTRA_SHARE))
    )
    return EditionTargets(
        edition=edition,
        villages=villages,
        towns=towns,
        cluster_towns=cluster,
        provinces=provinces,
        published_provinces=frozenset(published),
        revenue_cents=revenue_cents,
        active_shops=active,
        union_revenue_cents=union_cents,
    )
