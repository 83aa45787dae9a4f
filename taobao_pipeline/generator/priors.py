"""The generator's planning priors: stand-ins for what no report publishes, and how
unpublished counts are spread. Not part of the published record (``published_record.py``),
which the generator reads and never the reverse.

Decisions:

* 2019's published 700 billion covers villages and towns. The generator gives every Taobao
  town's non-designated units sales equal to 25% of the villages' sales (a uniform rule for
  all editions), so in 2019 villages alone are planned at 700 / 1.25 = 560 billion, and the
  union reproduces the published 700 billion.
* 2010-2012 village counts are a geometric interpolation between 2009 (3) and 2013 (20).
"""

from __future__ import annotations

from dataclasses import dataclass

from taobao_pipeline import published_record

_BILLION = 1_000_000_000
_S_INTERP = "interpolated: geometric between the published 2009 (3) and 2013 (20) counts"
_S_PLANNED = "not published: value planned by the generator"


@dataclass(frozen=True)
class StandIn:
    """A value the generator plans where the record has none (never reconciled)."""

    edition: int
    measure: str
    value: int
    reason: str
    note: str = ""


STAND_INS: tuple[StandIn, ...] = (
    # Taobao villages.
    StandIn(2010, "taobao_villages", 5, _S_INTERP),
    StandIn(2011, "taobao_villages", 8, _S_INTERP),
    StandIn(2012, "taobao_villages", 12, _S_INTERP),
    # Taobao towns (first counted in the 2014 report).
    StandIn(2009, "taobao_towns", 0, _S_PLANNED, "3 villages in 3 counties"),
    StandIn(2010, "taobao_towns", 0, _S_PLANNED, "towns first counted in 2014"),
    StandIn(2011, "taobao_towns", 0, _S_PLANNED, "towns first counted in 2014"),
    StandIn(2012, "taobao_towns", 0, _S_PLANNED, "towns first counted in 2014"),
    StandIn(2013, "taobao_towns", 1, _S_PLANNED, "towns first counted in 2014"),
    # Sales of the shops in Taobao villages (RMB).
    StandIn(2009, "revenue_rmb", 120_000_000, _S_PLANNED),
    StandIn(2010, "revenue_rmb", 220_000_000, _S_PLANNED),
    StandIn(2011, "revenue_rmb", 380_000_000, _S_PLANNED),
    StandIn(2012, "revenue_rmb", 620_000_000, _S_PLANNED),
    StandIn(2013, "revenue_rmb", 1_200_000_000, _S_PLANNED),
    StandIn(2014, "revenue_rmb", 12 * _BILLION, _S_PLANNED),
    StandIn(2015, "revenue_rmb", 43 * _BILLION, _S_PLANNED),
    StandIn(2016, "revenue_rmb", 79 * _BILLION, _S_PLANNED),
    StandIn(
        2019,
        "revenue_rmb",
        560 * _BILLION,
        _S_PLANNED,
        "villages alone: 700 billion (villages and towns) / 1.25",
    ),
    StandIn(2021, "revenue_rmb", 1200 * _BILLION, _S_PLANNED),
    StandIn(2022, "revenue_rmb", 1300 * _BILLION, _S_PLANNED),
    # Active shops in Taobao villages.
    StandIn(2009, "active_shops", 1_200, _S_PLANNED),
    StandIn(2010, "active_shops", 2_350, _S_PLANNED),
    StandIn(2011, "active_shops", 4_400, _S_PLANNED),
    StandIn(2012, "active_shops", 7_700, _S_PLANNED),
    StandIn(2017, "active_shops", 490_000, _S_PLANNED),
    StandIn(2018, "active_shops", 660_000, _S_PLANNED),
    StandIn(2019, "active_shops", 1_600_000, _S_PLANNED),
    StandIn(2021, "active_shops", 3_200_000, _S_PLANNED),
    StandIn(2022, "active_shops", 3_400_000, _S_PLANNED),
)


#: Taobao villages of county-level units the record does not give (or gives as a tier
#: only), planned so that the published clusters come out: (edition, county code) ->
#: (villages, reason). The record's own county figures come from ``published_record``.
_S_YIWU_2018 = (
    "134, quoted with the three cities of 2018 (dzlps.cn/377481.html); no stored copy of "
    "that page could be read, so it is planned, not recorded"
)
_S_SUPER_2018 = "super-large in 2018 (AliResearch, 2019: 义乌 and 曹县); size planned"
_S_SUPER_2019 = (
    "one of the 7 super-large clusters of 2019 (义乌, 曹县, 永康, 温岭, 睢宁, 慈溪, 乐清); "
    "size planned"
)
_S_YUEQING_2018 = "83 Taobao villages in 2018 (浙江新闻客户端, 2018-10); not recorded"
_S_ZHIJIANG = (
    "枝江市, Hubei's significant cluster (the project brief; Hubei's one county among "
    "AliResearch's hundred of 2020); size planned"
)
_S_2016 = (
    "2016 cluster sizes as reprinted (义乌 65, 温岭 54: "
    "https://dinovaliano.com/top/news/20170327/11120994362.shtml); not recorded"
)
COUNTY_STAND_INS: dict[tuple[int, str], tuple[int, str]] = {
    (2016, "330782"): (65, _S_2016),
    (2016, "331081"): (54, _S_2016),
    (2018, "330782"): (134, _S_YIWU_2018),
    (2018, "371721"): (113, _S_SUPER_2018),
    (2018, "330382"): (83, _S_YUEQING_2018),
    (2019, "330782"): (160, _S_SUPER_2019),
    (2019, "371721"): (135, _S_SUPER_2019),
    (2019, "330784"): (102, _S_SUPER_2019),
    (2019, "331081"): (104, _S_SUPER_2019),
    (2019, "320324"): (101, _S_SUPER_2019),
    (2019, "330282"): (100, _S_SUPER_2019),
    (2019, "330382"): (106, _S_SUPER_2019),
    (2020, "420583"): (12, _S_ZHIJIANG),
    (2021, "420583"): (14, _S_ZHIJIANG),
    (2022, "420583"): (16, _S_ZHIJIANG),
}

#: Share of villages inside clusters where none was published after 2019 (percent): the
#: published climb (54% in 2015 ... 76% in 2019) slowing, not the simulation's jump.
SHARE_IN_CLUSTERS_STAND_INS: dict[int, int] = {2020: 78, 2021: 79, 2022: 80}
#: Clusters (>= 10 villages) where none was published before 2018: 2017 between 2016's
#: simulated 50 and 2018's published 76, so the count grows as the reports tell.
CLUSTERS_STAND_INS: dict[int, int] = {2017: 62}


def target_figure(edition: int, measure: str) -> int | None:
    """The published figure, else the generator's stand-in, else ``None``."""
    published = published_record.figure(edition, measure)
    if published is not None:
        return published
    for s in STAND_INS:
        if s.edition == edition and s.measure == measure:
            return s.value
    return None


# --- Planning priors (not published): how unpublished counts are spread -----------------

#: Towns made by the ">= 3 Taobao villages" rule alone (countable townships: from 2020 on,
#: sub-districts excluded). Up to 2018 that is every town; from 2019 the rest of the
#: published towns qualify by the sales rule.
CLUSTER_TOWNS: dict[int, int] = {
    2009: 0,
    2010: 0,
    2011: 0,
    2012: 0,
    2013: 1,
    2014: 19,
    2015: 71,
    2016: 135,
    2017: 242,
    2018: 363,
    2019: 480,
    2020: 590,
    2021: 760,
    2022: 850,
}

#: Share of the villages' sales that the other units of Taobao towns add (see module doc).
TOWN_EXTRA_SHARE = 0.25

#: Province weights for editions without a provincial breakdown (explicit small tables for
#: 2009-2013, then anchors interpolated linearly). Weights, not published counts.
_EARLY_WEIGHTS: dict[int, dict[str, int]] = {
    2009: {"33": 1, "32": 1, "13": 1},
    2010: {"33": 2, "32": 1, "13": 1, "35": 1},
    2011: {"33": 3, "32": 2, "13": 1, "35": 1, "44": 1},
    2012: {"33": 4, "32": 2, "13": 2, "35": 2, "44": 1, "37": 1},
    2013: {"33": 6, "44": 3, "32": 3, "35": 3, "13": 2, "37": 2, "41": 1},
}
_ANCHOR_EDITIONS = (2014, 2016, 2018, 2020, 2022)
_ANCHORS: dict[str, tuple[int, ...]] = {
    "33": (62, 506, 1172, 1757, 2429),
    "44": (55, 262, 614, 1025, 1466),
    "32": (25, 201, 452, 664, 791),
    "37": (13, 108, 367, 598, 787),
    "35": (28, 107, 233, 441, 587),
    "13": (25, 91, 229, 500, 730),
    "41": (1, 13, 50, 135, 275),
    "12": (1, 5, 11, 52, 62),
    "36": (0, 4, 12, 54, 90),
    "42": (1, 1, 10, 33, 50),
    "11": (1, 1, 11, 12, 14),
    "34": (0, 1, 8, 27, 55),
    "43": (0, 1, 4, 11, 19),
    "51": (2, 3, 5, 8, 18),
    "21": (0, 1, 5, 8, 14),
    "50": (0, 1, 3, 3, 9),
    "14": (0, 1, 2, 2, 4),
    "45": (0, 1, 1, 3, 6),
    "53": (0, 1, 1, 2, 4),
    "22": (0, 0, 2, 4, 5),
    "61": (0, 0, 1, 2, 4),
    "64": (0, 0, 1, 1, 1),
    "23": (0, 0, 1, 1, 2),
    "52": (0, 0, 1, 2, 3),
    "65": (0, 0, 0, 1, 2),
    "62": (0, 0, 0, 1, 2),
    "46": (0, 0, 0, 0, 1),
    "31": (0, 0, 0, 1, 2),
    "15": (0, 0, 0, 0, 1),
}


def province_weights(edition: int) -> dict[str, float]:
    """Prior weights by province code used to spread an edition's unpublished counts."""
    if edition in _EARLY_WEIGHTS:
        return {k: float(v) for k, v in _EARLY_WEIGHTS[edition].items()}
    eds = _ANCHOR_EDITIONS
    if edition >= eds[-1]:
        i, t = len(eds) - 2, 1.0
    else:
        i = max(j for j in range(len(eds)) if eds[j] <= edition)
        t = (edition - eds[i]) / (eds[i + 1] - eds[i])
    return {
        code: vals[i] + t * (vals[i + 1] - vals[i])
        for code, vals in _ANCHORS.items()
        if vals[i] + t * (vals[i + 1] - vals[i]) > 0
    }
