"""The published record of Taobao villages and towns, and the targets the generator plans.

``PUBLISHED`` is the reference table a reconciliation compares the warehouse with: one row
per (edition, measure) with the value, the source it comes from and an ``interpolated`` flag
(``True`` for values no report gives, which the generator plans instead: early village counts,
towns before 2014, unpublished money and shop totals).

Measures:

* ``taobao_villages``, ``taobao_towns``: counts (exact at scale 1.0);
* ``province:<full province name>``: Taobao villages in that province (exact at scale 1.0);
* ``revenue_rmb``: yearly sales of the shops in Taobao villages, RMB (within 1%);
* ``revenue_rmb_villages_and_towns``: sales of the shops in Taobao villages *or* in Taobao
  towns, each shop counted once (2019 only: the report gives that scope);
* ``active_shops``: active shops in Taobao villages (within 1%).

Decisions (see also the generator's report):

* 2019's 700 billion covers villages and towns together. The generator gives every Taobao
  town's non-designated units sales equal to 25% of the villages' sales (a uniform rule for
  all editions), so in 2019 villages alone are planned at 700 / 1.25 = 560 billion, and the
  union reproduces the published 700 billion.
* 2020's 1 trillion and 2.96 million active shops are calibrated as the Taobao villages'
  own figures, as the project brief asks (the report's wording covers villages and towns).
  One widely copied text gives "29,600 active shops" for 2020; the report says 2.96 million
  (296万), which is what is used here.
* 2010-2012 village counts are a geometric interpolation between 2009 (3) and 2013 (20).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

#: Full names of the 31 mainland provinces, by two-digit code.
PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
}

EDITIONS: tuple[int, ...] = tuple(range(2009, 2023))

# Sources, cited once and referred to below.
_S_PD_2019 = (
    "Xinhua via People's Daily Online, 2019-08-02, citing AliResearch 中国淘宝村研究报告"
    "(2009-2019): http://en.people.cn/n3/2019/0802/c90000-9602962.html"
)
_S_PD_2019_SALES = (
    "People's Daily Online, 2019-09-11, citing AliResearch (villages and townships together): "
    "http://en.people.cn/n3/2019/0911/c90000-9614133.html"
)
_S_2014 = "AliResearch, 中国淘宝村研究报告(2014) and its published 2014 list"
_S_PAYPERS_2014 = (
    "The Paypers citing AliResearch's 2014 report: "
    "https://thepaypers.com/payments/news/2014-taobao-villages-in-rural-china-grow-tenfold"
)
_S_XH_2015 = (
    "Xinhua, 2015-12-30, citing AliResearch 2015 list: http://3news.cn/2015/1230/65516.html"
)
_S_2015_LIST = "AliResearch, 中国淘宝村研究报告(2015) and its published 2015 list"
_S_QZ_2016 = (
    "泉州网 2016-10-31 on AliResearch 中国淘宝村研究报告(2016): "
    "http://m.qzcns.com/qznews/2016/1031/465308.html"
)
_S_2016_LIST = "AliResearch, 中国淘宝村研究报告(2016) and its published 2016 list"
_S_ASKCI_2017 = (
    "中商情报网 2017-12-13 on AliResearch 中国淘宝村研究报告(2017): "
    "http://askci.com/news/chanye/20171213/101244113873.shtml"
)
_S_2017 = "AliResearch, 中国淘宝村研究报告(2017), as quoted by Xinhua / People's Daily / Yicai"
_S_2018 = "AliResearch, 中国淘宝村研究报告(2018), as quoted by Xinhua / People's Daily / Yicai"
_S_LS_2019 = (
    "丽水日报 2019-08-19 on AliResearch's 2019 list (towns 363 -> 1118): "
    "http://paper.lsnews.com.cn/lsrb/pc/content/201908/19/content_132474.html"
)
_S_DZ_2019 = (
    "大众网 2019-08-06 on AliResearch's 2019 list (Shandong 450, up from 367): "
    "https://weifang.dzwww.com/gdfb/201908/t20190806_17031947.htm"
)
_S_FZ_2020 = (
    "泉州网 via 福州新闻网 2020-09-03 on AliResearch's 2020 list (Fujian 441, +123 on 2019): "
    "https://news.fznews.com.cn/dsxw/20200903/5f504a24337a4.shtml"
)
_S_2020 = "AliResearch, 2020 中国淘宝村研究报告, as quoted by Xinhua / People's Daily / Yicai"
_S_JH_2021 = (
    "Jinhua government 2021-10-21 on Nanjing University / AliResearch 2021 results: "
    "http://english.jinhua.gov.cn/art/2021/10/21/art_1229181171_58895099.html"
)
_S_NF_2022 = (
    "南方农村报 2022 on Nanjing University / AliResearch 2022 results (Guangdong 1466, "
    "2021: 1322; towns 2429, +258): https://juredian.net/uid5/tid6_227608.html"
)
_S_INTERP = "interpolated: geometric between the published 2009 (3) and 2013 (20) counts"
_S_PLANNED = "not published: value planned by the generator"


@dataclass(frozen=True)
class PublishedFigure:
    """One number of the published record (or a planned stand-in, ``interpolated=True``)."""

    edition: int
    measure: str
    value: int
    source: str
    interpolated: bool = False
    note: str = ""

    @property
    def tolerance(self) -> float:
        """Relative tolerance a reconciliation allows: 0 for counts, 1% for money and shops."""
        return 0.01 if self.measure.startswith(("revenue", "active")) else 0.0


_BILLION = 1_000_000_000


def _prov(edition: int, code: str, value: int, source: str) -> PublishedFigure:
    return PublishedFigure(edition, f"province:{PROVINCES[code]}", value, source)


FIGURES: tuple[PublishedFigure, ...] = (
    # Taobao villages.
    PublishedFigure(2009, "taobao_villages", 3, _S_PD_2019),
    PublishedFigure(2010, "taobao_villages", 5, _S_INTERP, True),
    PublishedFigure(2011, "taobao_villages", 8, _S_INTERP, True),
    PublishedFigure(2012, "taobao_villages", 12, _S_INTERP, True),
    PublishedFigure(2013, "taobao_villages", 20, _S_PD_2019),
    PublishedFigure(2014, "taobao_villages", 213, _S_2014),
    PublishedFigure(2015, "taobao_villages", 780, _S_XH_2015),
    PublishedFigure(2016, "taobao_villages", 1311, _S_QZ_2016),
    PublishedFigure(2017, "taobao_villages", 2118, _S_ASKCI_2017),
    PublishedFigure(2018, "taobao_villages", 3202, _S_2018),
    PublishedFigure(2019, "taobao_villages", 4310, _S_PD_2019),
    PublishedFigure(2020, "taobao_villages", 5425, _S_FZ_2020),
    PublishedFigure(2021, "taobao_villages", 7023, _S_JH_2021),
    PublishedFigure(2022, "taobao_villages", 7780, _S_NF_2022),
    # Taobao towns (first counted in the 2014 report).
    PublishedFigure(2009, "taobao_towns", 0, _S_PLANNED, True, "3 villages in 3 counties"),
    PublishedFigure(2010, "taobao_towns", 0, _S_PLANNED, True, "towns first counted in 2014"),
    PublishedFigure(2011, "taobao_towns", 0, _S_PLANNED, True, "towns first counted in 2014"),
    PublishedFigure(2012, "taobao_towns", 0, _S_PLANNED, True, "towns first counted in 2014"),
    PublishedFigure(2013, "taobao_towns", 1, _S_PLANNED, True, "towns first counted in 2014"),
    PublishedFigure(2014, "taobao_towns", 19, _S_2014),
    PublishedFigure(2015, "taobao_towns", 71, _S_QZ_2016, note="2016 report: 'up from 71'"),
    PublishedFigure(2016, "taobao_towns", 135, _S_QZ_2016),
    PublishedFigure(2017, "taobao_towns", 242, _S_ASKCI_2017),
    PublishedFigure(2018, "taobao_towns", 363, _S_LS_2019),
    PublishedFigure(2019, "taobao_towns", 1118, _S_LS_2019),
    PublishedFigure(2020, "taobao_towns", 1756, _S_FZ_2020),
    PublishedFigure(2021, "taobao_towns", 2171, _S_NF_2022, note="2429 - 258 new"),
    PublishedFigure(2022, "taobao_towns", 2429, _S_NF_2022),
    # Villages by province, where published.
    _prov(2014, "33", 62, _S_2014),
    _prov(2014, "44", 55, _S_2014),
    _prov(2014, "35", 28, _S_2014),
    _prov(2014, "13", 25, _S_2014),
    _prov(2014, "32", 25, _S_2014),
    _prov(2014, "37", 13, _S_2014),
    _prov(2015, "33", 280, _S_XH_2015),
    _prov(2015, "44", 157, _S_2015_LIST),
    _prov(2015, "32", 127, _S_2015_LIST),
    _prov(2015, "35", 71, _S_2015_LIST),
    _prov(2015, "37", 64, _S_2015_LIST),
    _prov(2015, "13", 59, _S_2015_LIST),
    _prov(2016, "33", 506, _S_QZ_2016),
    _prov(2016, "44", 262, _S_QZ_2016),
    _prov(2016, "32", 201, _S_QZ_2016),
    _prov(2016, "37", 108, _S_2016_LIST),
    _prov(2016, "35", 107, _S_2016_LIST),
    _prov(2016, "13", 91, _S_2016_LIST),
    _prov(2016, "41", 13, _S_2016_LIST),
    _prov(2017, "33", 779, _S_2017),
    _prov(2017, "44", 411, _S_2017),
    _prov(2017, "32", 262, _S_2017),
    _prov(2018, "33", 1172, _S_2018),
    _prov(2018, "44", 614, _S_2018),
    _prov(2018, "32", 452, _S_2018),
    _prov(2018, "37", 367, _S_DZ_2019),
    _prov(2018, "35", 233, _S_2018),
    _prov(2018, "13", 229, _S_2018),
    _prov(2019, "37", 450, _S_DZ_2019),
    _prov(2019, "35", 318, _S_FZ_2020),
    _prov(2020, "33", 1757, _S_FZ_2020),
    _prov(2020, "35", 441, _S_FZ_2020),
    _prov(2021, "44", 1322, _S_NF_2022),
    _prov(2022, "44", 1466, _S_NF_2022),
    # Sales of the shops in Taobao villages (RMB).
    PublishedFigure(2009, "revenue_rmb", 120_000_000, _S_PLANNED, True),
    PublishedFigure(2010, "revenue_rmb", 220_000_000, _S_PLANNED, True),
    PublishedFigure(2011, "revenue_rmb", 380_000_000, _S_PLANNED, True),
    PublishedFigure(2012, "revenue_rmb", 620_000_000, _S_PLANNED, True),
    PublishedFigure(2013, "revenue_rmb", 1_200_000_000, _S_PLANNED, True),
    PublishedFigure(2014, "revenue_rmb", 12 * _BILLION, _S_PLANNED, True),
    PublishedFigure(2015, "revenue_rmb", 43 * _BILLION, _S_PLANNED, True),
    PublishedFigure(2016, "revenue_rmb", 79 * _BILLION, _S_PLANNED, True),
    PublishedFigure(2017, "revenue_rmb", 120 * _BILLION, _S_2017, note="超过1200亿元"),
    PublishedFigure(2018, "revenue_rmb", 220 * _BILLION, _S_2018, note="超过2200亿元"),
    PublishedFigure(
        2019,
        "revenue_rmb",
        560 * _BILLION,
        _S_PLANNED,
        True,
        "villages alone: 700 billion (villages and towns) / 1.25",
    ),
    PublishedFigure(
        2019,
        "revenue_rmb_villages_and_towns",
        700 * _BILLION,
        _S_PD_2019_SALES,
        note="shops in Taobao villages or Taobao towns, each once",
    ),
    PublishedFigure(
        2020,
        "revenue_rmb",
        1000 * _BILLION,
        _S_2020,
        note="calibrated as the villages' own sales (the report's 1万亿 covers villages and towns)",
    ),
    PublishedFigure(2021, "revenue_rmb", 1200 * _BILLION, _S_PLANNED, True),
    PublishedFigure(2022, "revenue_rmb", 1300 * _BILLION, _S_PLANNED, True),
    # Active shops in Taobao villages.
    PublishedFigure(2009, "active_shops", 1_200, _S_PLANNED, True),
    PublishedFigure(2010, "active_shops", 2_350, _S_PLANNED, True),
    PublishedFigure(2011, "active_shops", 4_400, _S_PLANNED, True),
    PublishedFigure(2012, "active_shops", 7_700, _S_PLANNED, True),
    PublishedFigure(2013, "active_shops", 15_000, _S_PAYPERS_2014, note="15,000 sellers end 2013"),
    PublishedFigure(2014, "active_shops", 70_000, _S_PAYPERS_2014),
    PublishedFigure(2015, "active_shops", 200_000, _S_XH_2015),
    PublishedFigure(2016, "active_shops", 300_000, _S_QZ_2016),
    PublishedFigure(2017, "active_shops", 490_000, _S_PLANNED, True),
    PublishedFigure(2018, "active_shops", 660_000, _S_PLANNED, True),
    PublishedFigure(2019, "active_shops", 1_600_000, _S_PLANNED, True),
    PublishedFigure(
        2020,
        "active_shops",
        2_960_000,
        _S_2020,
        note="296万; a widely copied text says 29,600, which misreads the report",
    ),
    PublishedFigure(2021, "active_shops", 3_200_000, _S_PLANNED, True),
    PublishedFigure(2022, "active_shops", 3_400_000, _S_PLANNED, True),
)


def published_table() -> pl.DataFrame:
    """The reference table as a polars frame (one row per edition and measure)."""
    return pl.DataFrame(
        {
            "edition": [f.edition for f in FIGURES],
            "measure": [f.measure for f in FIGURES],
            "value": [f.value for f in FIGURES],
            "tolerance": [f.tolerance for f in FIGURES],
            "source": [f.source for f in FIGURES],
            "interpolated": [f.interpolated for f in FIGURES],
            "note": [f.note for f in FIGURES],
        },
        schema={
            "edition": pl.Int32,
            "measure": pl.String,
            "value": pl.Int64,
            "tolerance": pl.Float64,
            "source": pl.String,
            "interpolated": pl.Boolean,
            "note": pl.String,
        },
    ).sort("edition", "measure")


#: The reference table (see :func:`published_table`).
PUBLISHED: pl.DataFrame = published_table()


def figure(edition: int, measure: str) -> int | None:
    """The value of one measure for one edition, or ``None`` when the table has no row."""
    for f in FIGURES:
        if f.edition == edition and f.measure == measure:
            return f.value
    return None


def province_figures(edition: int) -> dict[str, int]:
    """Published village counts by two-digit province code for one edition."""
    by_name = {name: code for code, name in PROVINCES.items()}
    out: dict[str, int] = {}
    for f in FIGURES:
        if f.edition == edition and f.measure.startswith("province:"):
            out[by_name[f.measure.removeprefix("province:")]] = f.value
    return out


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
