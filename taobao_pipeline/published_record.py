"""The published record of Taobao villages and towns: each figure with its source.

AliResearch's yearly reports (and, from 2021, Nanjing University's with AliResearch) as
quoted by the press; the warehouse's ``reconciliation`` compares the computed figures with
these. Only figures a source gives are here: what no report publishes (early village
counts, towns before 2014, most money and shop totals) is not part of the record. The
generator plans stand-ins for those in its own priors (``generator/priors.py``).

Measures:

* ``taobao_villages``, ``taobao_towns``: counts (exact);
* ``province:<full province name>``: Taobao villages in that province (exact);
* ``revenue_rmb``: yearly sales of the shops in Taobao villages, RMB (within 1%);
* ``revenue_rmb_villages_and_towns``: sales of the shops in Taobao villages *or* in Taobao
  towns, each shop counted once (2019 only: the report gives that scope);
* ``active_shops``: active shops in Taobao villages (within 1%);
* ``clusters``, ``large_clusters``, ``super_large_clusters``: AliResearch's Taobao village
  clusters (淘宝村集群: 10 or more adjoining Taobao villages; large from 30, super-large from
  100), exact; the warehouse counts county-level units, standing in for "adjoining";
* ``share_in_clusters``: the share of Taobao villages inside clusters, in percent as
  published (whole points), within one point;
* ``county:<name>``, ``prefecture:<name>``: Taobao villages of one county-level unit or
  prefecture-level city (exact), matched by its statistical code (``code``).

Readings:

* 2019's 700 billion covers villages and towns together (``revenue_rmb_villages_and_towns``).
* 2020's 1 trillion and 2.96 million active shops are read as the Taobao villages' own
  figures, as the project brief asks (the report's wording covers villages and towns).
  One widely copied text gives "29,600 active shops" for 2020; the report says 2.96 million
  (296万), which is what is used here.
* 2018's clusters by tier are read from the 2019 release's increases on 2018 (95 clusters,
  "19 more than 2018"; large 33, "+12"; super-large 7, "+5": 义乌 and 曹县 in 2018).
* 义乌's 134 Taobao villages of 2018, quoted with the three cities of 2018, are not
  recorded: no stored copy of the page that gives it could be read; the generator plans
  the county at that size all the same (``generator/priors.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from taobao_pipeline.provinces import CODES, NAMES

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
_S_MEMUR_2019 = (
    "AliResearch's 2019 rankings of cities and clusters (淘宝村集群 95, 19 more than 2018; "
    "large 33, +12; super-large 7, +5; share of villages in clusters 2015-2019), reprinted: "
    "https://memurnet.com/hot/1084-257237.html"
)
_S_HZ_2018 = (
    "牡丹晚报 (菏泽日报) 2018-11-01 on AliResearch 中国淘宝村研究报告(2018) (菏泽 267, "
    "温州 254, 金华 245): http://epaper.hezeribao.com/shtml/mdwb/20181101/429216.shtml"
)
_S_ZJ_2018 = (
    "浙江新闻客户端 2018-10 on AliResearch's ten largest clusters of 2018 (温岭 97, 睢宁 92), "
    "reprinted: http://www1.duzhongyea.com/tzrz/2717.html"
)
_S_JSL_2020 = (
    "AliResearch 淘宝村百强县名单, 2020-09-14 (曹县 151 Taobao villages; 枝江, Hubei's one "
    "county among the hundred): http://m.jiangsulong.com/a/2020/0914/01233469.html"
)

#: statistical codes of the county-level units and prefectures the record names
AREA_CODES: dict[str, str] = {
    "county:义乌市": "330782",
    "county:曹县": "371721",
    "county:温岭市": "331081",
    "county:睢宁县": "320324",
    "prefecture:菏泽市": "3717",
    "prefecture:温州市": "3303",
    "prefecture:金华市": "3307",
}


@dataclass(frozen=True)
class PublishedFigure:
    """One number of the published record, with where it was published."""

    edition: int
    measure: str
    value: int
    source: str
    note: str = ""

    @property
    def tolerance(self) -> float:
        """Relative tolerance a reconciliation allows: 0 for counts, 1% for money and shops."""
        return 0.01 if self.measure.startswith(("revenue", "active")) else 0.0

    @property
    def absolute_tolerance(self) -> int:
        """Difference allowed in the measure's own unit: one point for a share in percent
        (published in whole points), else 0."""
        return 1 if self.measure.startswith("share_") else 0

    @property
    def key(self) -> str:
        """What the computed side is matched on: the measure, or for a county or prefecture
        its kind and statistical code (names repeat across China; codes do not)."""
        code = AREA_CODES.get(self.measure)
        return f"{self.measure.split(':')[0]}:{code}" if code else self.measure


_BILLION = 1_000_000_000


def _prov(edition: int, code: str, value: int, source: str) -> PublishedFigure:
    return PublishedFigure(edition, f"province:{NAMES[code]}", value, source)


FIGURES: tuple[PublishedFigure, ...] = (
    # Taobao villages.
    PublishedFigure(2009, "taobao_villages", 3, _S_PD_2019),
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
    PublishedFigure(2017, "revenue_rmb", 120 * _BILLION, _S_2017, note="超过1200亿元"),
    PublishedFigure(2018, "revenue_rmb", 220 * _BILLION, _S_2018, note="超过2200亿元"),
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
    # Active shops in Taobao villages.
    PublishedFigure(2013, "active_shops", 15_000, _S_PAYPERS_2014, note="15,000 sellers end 2013"),
    PublishedFigure(2014, "active_shops", 70_000, _S_PAYPERS_2014),
    PublishedFigure(2015, "active_shops", 200_000, _S_XH_2015),
    PublishedFigure(2016, "active_shops", 300_000, _S_QZ_2016),
    PublishedFigure(
        2020,
        "active_shops",
        2_960_000,
        _S_2020,
        note="296万; a widely copied text says 29,600, which misreads the report",
    ),
    # Taobao village clusters (淘宝村集群) by tier; the warehouse's clusters are county-level
    # units (the contract has no coordinates to judge "adjoining").
    PublishedFigure(2018, "clusters", 76, _S_MEMUR_2019, note="95 in 2019, 19 more than 2018"),
    PublishedFigure(2019, "clusters", 95, _S_MEMUR_2019),
    PublishedFigure(2018, "large_clusters", 21, _S_MEMUR_2019, note="33 in 2019, 12 more"),
    PublishedFigure(2019, "large_clusters", 33, _S_MEMUR_2019),
    PublishedFigure(
        2018, "super_large_clusters", 2, _S_MEMUR_2019, note="7 in 2019, 5 more: 义乌, 曹县"
    ),
    PublishedFigure(
        2019,
        "super_large_clusters",
        7,
        _S_MEMUR_2019,
        note="义乌, 曹县, 永康, 温岭, 睢宁, 慈溪, 乐清",
    ),
    # Share of Taobao villages inside clusters, percent (whole points as published).
    PublishedFigure(2015, "share_in_clusters", 54, _S_MEMUR_2019, note="percent"),
    PublishedFigure(2016, "share_in_clusters", 64, _S_MEMUR_2019, note="percent"),
    PublishedFigure(2017, "share_in_clusters", 69, _S_MEMUR_2019, note="percent"),
    PublishedFigure(2018, "share_in_clusters", 73, _S_MEMUR_2019, note="percent"),
    PublishedFigure(2019, "share_in_clusters", 76, _S_MEMUR_2019, note="percent"),
    # Taobao villages of county-level units and prefecture-level cities.
    PublishedFigure(2017, "county:义乌市", 104, _S_ASKCI_2017),
    PublishedFigure(2017, "county:温岭市", 75, _S_ASKCI_2017),
    PublishedFigure(2017, "county:曹县", 74, _S_ASKCI_2017),
    PublishedFigure(2018, "county:温岭市", 97, _S_ZJ_2018),
    PublishedFigure(2018, "county:睢宁县", 92, _S_ZJ_2018),
    PublishedFigure(2020, "county:曹县", 151, _S_JSL_2020),
    PublishedFigure(2021, "county:义乌市", 197, _S_JH_2021),
    PublishedFigure(2018, "prefecture:菏泽市", 267, _S_HZ_2018),
    PublishedFigure(2018, "prefecture:温州市", 254, _S_HZ_2018),
    PublishedFigure(2018, "prefecture:金华市", 245, _S_HZ_2018),
)


def published_table() -> pl.DataFrame:
    """The record as a polars frame (one row per edition and measure)."""
    return pl.DataFrame(
        {
            "edition": [f.edition for f in FIGURES],
            "measure": [f.measure for f in FIGURES],
            "value": [f.value for f in FIGURES],
            "tolerance": [f.tolerance for f in FIGURES],
            "absolute_tolerance": [f.absolute_tolerance for f in FIGURES],
            "key": [f.key for f in FIGURES],
            "source": [f.source for f in FIGURES],
            "note": [f.note for f in FIGURES],
        },
        schema={
            "edition": pl.Int32,
            "measure": pl.String,
            "value": pl.Int64,
            "tolerance": pl.Float64,
            "absolute_tolerance": pl.Int64,
            "key": pl.String,
            "source": pl.String,
            "note": pl.String,
        },
    ).sort("edition", "measure")


def figure(edition: int, measure: str) -> int | None:
    """The published value of one measure for one edition, or ``None``."""
    for f in FIGURES:
        if f.edition == edition and f.measure == measure:
            return f.value
    return None


def area_figures(edition: int, kind: str) -> dict[str, int]:
    """Published village counts of ``kind`` (``county`` or ``prefecture``) by statistical
    code for one edition."""
    return {
        AREA_CODES[f.measure]: f.value
        for f in FIGURES
        if f.edition == edition and f.measure.startswith(f"{kind}:")
    }


def province_figures(edition: int) -> dict[str, int]:
    """Published village counts by two-digit province code for one edition."""
    return {
        CODES[f.measure.removeprefix("province:")]: f.value
        for f in FIGURES
        if f.edition == edition and f.measure.startswith("province:")
    }
