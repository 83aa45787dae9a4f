"""The national register: provinces, prefectures, counties, townships and village-level units.

Province, prefecture and county codes and names are real (:mod:`.divisions`, a 2025 snapshot
used for every edition). Townships and village-level units below them are synthetic but
follow the statistical code ranges of the contract: township digits 001-099 sub-districts
(街道), 100-199 towns (镇), 200-399 townships (乡), 400-599 other township-level units;
village digits 001-199 residents' committees, 201-399 village committees, 401-599 other
units. A few famous places are real: the first three Taobao villages of 2009 (东风村 in
睢宁县沙集镇, 青岩刘村 in 义乌市江东街道, 东高庄村 in 清河县杨二庄镇) and well-known clusters.

Sizes: about 620,000 village-level units at scale 1.0, spread over provinces in rough
proportion to their real numbers of village-level units (approximate shares used only for
sizing), about 16 units per township.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from taobao_pipeline.provinces import NAMES as PROVINCES

from .divisions import DIVISIONS_TEXT
from .rng import Stream

#: Village-level units by province at scale 1.0, in thousands (rough, for sizing only).
UNITS_BY_PROVINCE: dict[str, float] = {
    "11": 7.1,
    "12": 5.2,
    "13": 53.0,
    "14": 26.5,
    "15": 14.3,
    "21": 15.5,
    "22": 11.6,
    "23": 12.9,
    "31": 6.2,
    "32": 22.0,
    "33": 25.0,
    "34": 18.0,
    "35": 17.6,
    "36": 20.6,
    "37": 77.0,
    "41": 51.0,
    "42": 31.0,
    "43": 29.0,
    "44": 26.5,
    "45": 16.3,
    "46": 3.5,
    "50": 11.1,
    "51": 45.0,
    "52": 17.0,
    "53": 14.6,
    "54": 5.7,
    "61": 20.0,
    "62": 17.6,
    "63": 4.6,
    "64": 2.8,
    "65": 12.0,
}
NATIONAL_UNITS = 620_000
UNITS_PER_TOWNSHIP = 16

#: Names for prefecture-level codes the source leaves out.
_MISSING_PREFECTURES = {
    "0100": "市辖区",
    "0200": "县",
    "9000": "省直辖县级行政区划",
}

#: Famous e-commerce counties (real codes) and their signature product.
HOT_COUNTIES: dict[str, str] = {
    "330782": "小商品",
    "371721": "演出服饰",
    "321322": "花木",
    "350582": "鞋服",
    "331081": "鞋帽",
    "320324": "家具",
    "130534": "羊绒制品",
    "330784": "五金工具",
    "330282": "小家电",
    "330382": "电工电器",
    "330481": "皮革服装",
    "330381": "汽摩配件",
    "330109": "家纺",
    "445281": "服装",
    "440515": "玩具",
    "440113": "服装",
    "440111": "皮具箱包",
    "350583": "水暖卫浴",
    "350524": "茶叶",
    "350581": "服装",
    "320581": "服装",
    "330681": "袜业",
    "331082": "眼镜",
    "441900": "电子产品",
    "440606": "家具",
    "320382": "板材家具",
    "410225": "民族乐器",
    "130535": "轴承",
    "131082": "家具",
    "371722": "农产品",
    "371725": "服装",
    "371728": "家具",
    "321323": "花木",
    "330726": "水晶饰品",
    "445224": "内衣",
    "440605": "家具",
}

#: Real places of the first Taobao villages (2009) and well-known clusters:
#: (county code, township name, township kind, village name).
FAMOUS: tuple[tuple[str, str, str, str], ...] = (
    ("320324", "沙集镇", "town", "东风村"),
    ("330782", "江东街道", "subdistrict", "青岩刘村"),
    ("130534", "杨二庄镇", "town", "东高庄村"),
    ("371721", "大集镇", "town", "丁楼村"),
    ("321322", "颜集镇", "town", "堰下村"),
)

CATEGORIES: tuple[str, ...] = (
    "服装",
    "鞋靴",
    "箱包",
    "家具",
    "家居日用",
    "家纺",
    "农产品",
    "食品",
    "茶叶",
    "花卉园艺",
    "五金工具",
    "小家电",
    "电子产品",
    "玩具",
    "饰品",
    "汽车用品",
    "户外运动",
    "母婴用品",
    "美妆",
    "文具",
    "工艺品",
    "宠物用品",
)

_CHARS = (
    "东西南北中上下前后新大小高长安平和兴福庆永丰泰宁康乐昌盛华荣光明清河山水石林竹松柏"
    "桃李杏梅花草田王张刘陈杨黄赵周吴徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘"
    "袁蔡蒋余于杜叶程魏苏吕丁沈任姚卢傅钟崔汪范陆金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段"
    "雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂"
    "章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉"
    "骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚"
    "岗坡岭湾塘桥庄店集营寨堡屯铺坊园洼沟口坪湖溪坝圩垸墩埠渡"
)


@dataclass(frozen=True)
class Geography:
    """The register's building blocks (units carry everything the villages file needs)."""

    counties: pl.DataFrame
    townships: pl.DataFrame
    units: pl.DataFrame


def divisions() -> pl.DataFrame:
    """Counties (county-level units, or prefectures without counties) with their parents."""
    names: dict[str, str] = {}
    for token in DIVISIONS_TEXT.split():
        names[token[:6]] = token[6:]
    provinces = {c: n for c, n in names.items() if c.endswith("0000")}
    prefectures = {c: n for c, n in names.items() if c.endswith("00") and c not in provinces}
    counties = {c: n for c, n in names.items() if not c.endswith("00")}
    with_children = {c[:4] for c in counties}
    rows = []
    for code, name in counties.items():
        pref = code[:4] + "00"
        pref_name = prefectures.get(pref) or _MISSING_PREFECTURES.get(code[2:4] + "00", "市辖区")
        if code[:4] == "6590":
            pref_name = "自治区直辖县级行政区划"
        rows.append((code, name, code[:4], pref_name, code[:2], provinces[code[:2] + "0000"]))
    for code, name in prefectures.items():
        if code[:4] not in with_children:  # e.g. 东莞市, 中山市: townships directly below
            rows.append((code, name, code[:4], name, code[:2], provinces[code[:2] + "0000"]))
    frame = pl.DataFrame(
        rows,
        schema=[
            "county_code",
            "county_name",
            "prefecture_code",
            "prefecture_name",
            "province_code",
            "province_name",
        ],
        orient="row",
    ).sort("county_code")
    missing = set(PROVINCES) - set(frame["province_code"].to_list())
    if missing:
        raise ValueError(f"divisions table lacks provinces {sorted(missing)}")
    return frame


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (exact sum)."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    base = [int(r) for r in raw]
    rest = total - sum(base)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    return base


def _names(stream: Stream, n: int, suffix: pl.Expr | str) -> pl.Series:
    """``n`` two-character synthetic place names with a suffix (never one character twice,
    as in 靳靳村: real names rarely are)."""
    chars = pl.Series(list(_CHARS))
    i1 = (stream.uniform(n) * len(chars)).cast(pl.Int64)
    i2 = (stream.uniform(n) * len(chars)).cast(pl.Int64)
    k = len(_CHARS)
    # the next position (cyclic) holding another character (_CHARS repeats some)
    other = pl.Series(
        [next(j % k for j in range(i + 1, i + k) if _CHARS[j % k] != _CHARS[i]) for i in range(k)]
    )
    a, b = chars.gather(i1), chars.gather(i2)
    frame = pl.DataFrame({"a": a, "b": b, "b2": chars.gather(other.gather(i2))}).select(
        "a", b=pl.when(pl.col("a") == pl.col("b")).then(pl.col("b2")).otherwise(pl.col("b"))
    )
    suf = pl.lit(suffix) if isinstance(suffix, str) else suffix
    return frame.select(pl.concat_str(pl.col("a"), pl.col("b"), suf)).to_series()


def build_geography(scale: float, seed: int) -> Geography:
    """Build the register for ``scale`` (1.0: about 620,000 village-level units)."""
    stream = Stream(seed, "geography")
    rnd = stream.python()
    all_counties = divisions()
    famous_counties = {f[0] for f in FAMOUS}
    total_units = max(len(PROVINCES) * 40, round(NATIONAL_UNITS * scale))
    per_province = dict(
        zip(
            UNITS_BY_PROVINCE,
            _largest_remainder(total_units, list(UNITS_BY_PROVINCE.values())),
            strict=True,
        )
    )

    county_rows: list[tuple[str, int, float, str]] = []
    for prov in sorted(PROVINCES):
        codes = all_counties.filter(pl.col("province_code") == prov)["county_code"].to_list()
        hot_order = list(HOT_COUNTIES)
        famous_first = sorted(
            (c for c in codes if c in HOT_COUNTIES),
            key=lambda c: (c not in famous_counties, hot_order.index(c)),
        )
        others = [c for c in codes if c not in HOT_COUNTIES]
        rnd.shuffle(others)
        # Fewer counties at small scales keep counties and townships of a realistic size.
        n_take = min(len(codes), max(1, round(len(codes) * scale)))
        chosen = sorted((famous_first + others)[:n_take])
        unit_weights = []
        for c in chosen:
            w = rnd.lognormvariate(0.0, 0.45)
            if c in HOT_COUNTIES:
                w *= 2.0
            unit_weights.append(w)
        units = _largest_remainder(per_province[prov], unit_weights)
        for c, u in zip(chosen, units, strict=True):
            if c in HOT_COUNTIES:
                hot_w = 40.0 if c in famous_counties else 20.0
                cat = HOT_COUNTIES[c]
            else:
                hot_w = rnd.lognormvariate(0.0, 1.4)
                cat = CATEGORIES[rnd.randrange(len(CATEGORIES))]
            county_rows.append((c, max(u, 3), hot_w, cat))
    counties = (
        pl.DataFrame(
            county_rows,
            schema={
                "county_code": pl.String,
                "n_units": pl.Int64,
                "hot_weight": pl.Float64,
                "category": pl.String,
            },
            orient="row",
        )
        .join(all_counties, on="county_code", how="left")
        .sort("county_code")
    )

    # Townships (Python loop over counties: a few thousand iterations).
    famous_by_county = {f[0]: f for f in FAMOUS}
    t_rows: list[tuple[str, str, str, int, str]] = []
    for c, n_units, name in counties.select("county_code", "n_units", "county_name").iter_rows():
        n_t = max(1, round(n_units / UNITS_PER_TOWNSHIP))
        n_t = min(n_t, n_units // 3 if n_units >= 3 else 1, 120)
        n_t = max(n_t, 1)
        is_district = name.endswith("区")
        n_sub = max(1, round(n_t * (0.5 if is_district else 0.1)))
        n_sub = min(n_sub, n_t, 99)
        rest = n_t - n_sub
        n_other = 1 if rest >= 8 and rnd.random() < 0.25 else 0
        rest -= n_other
        n_town = min(rest if is_district else round(rest * 0.6), 99)
        n_xiang = rest - n_town
        kinds = (
            [("subdistrict", i + 1) for i in range(n_sub)]
            + [("town", 100 + i) for i in range(n_town)]
            + [("township", 200 + i) for i in range(n_xiang)]
            + [("other", 400 + i) for i in range(n_other)]
        )
        weights = [rnd.lognormvariate(0.0, 0.35) for _ in kinds]
        sizes = _largest_remainder(n_units - 3 * len(kinds), weights)
        for (kind, num), size in zip(kinds, sizes, strict=True):
            t_rows.append((c + f"{num:03d}", c, kind, size + 3, ""))
        fam = famous_by_county.get(c)
        if fam is not None:
            want = fam[2]
            idx = next((i for i, r in enumerate(t_rows) if r[1] == c and r[2] == want), None)
            if idx is None:
                idx = next(i for i, r in enumerate(t_rows) if r[1] == c)
            code, cc, kind, size, _ = t_rows[idx]
            t_rows[idx] = (code, cc, kind, max(size, 24), fam[1])
    townships = pl.DataFrame(
        t_rows,
        schema={
            "township_code": pl.String,
            "county_code": pl.String,
            "kind": pl.String,
            "n_units": pl.Int64,
            "fixed_name": pl.String,
        },
        orient="row",
    )
    suffix = (
        pl.when(pl.col("kind") == "subdistrict")
        .then(pl.lit("街道"))
        .when(pl.col("kind") == "town")
        .then(pl.lit("镇"))
        .when(pl.col("kind") == "township")
        .then(pl.lit("乡"))
        .otherwise(pl.lit("开发区"))
    )
    gen_names = _names(stream, townships.height, "")
    townships = (
        townships.with_columns(gen_names.alias("_n"))
        .with_columns(
            township_name=pl.when(pl.col("fixed_name") != "")
            .then(pl.col("fixed_name"))
            .otherwise(pl.concat_str(pl.col("_n"), suffix)),
            is_subdistrict=pl.col("kind") == "subdistrict",
        )
        .drop("_n", "fixed_name")
    )
    townships = (
        townships.with_columns(
            n_rc=pl.when(pl.col("kind") == "subdistrict")
            .then((pl.col("n_units") * 0.6).round())
            .when(pl.col("kind") == "town")
            .then(pl.max_horizontal(pl.lit(1.0), (pl.col("n_units") * 0.1).round()))
            .when(pl.col("kind") == "township")
            .then((pl.col("n_units") * 0.03).round())
            .otherwise(pl.lit(0.0))
            .cast(pl.Int64),
            n_other=pl.when(pl.col("kind") == "other")
            .then((pl.col("n_units") * 0.4).round())
            .when(pl.col("kind") == "subdistrict")
            .then((pl.col("n_units") * 0.05).round())
            .otherwise((pl.col("n_units") * 0.03).round())
            .cast(pl.Int64),
        )
        .with_columns(
            n_rc=pl.col("n_rc").clip(0, 199),
            n_other=pl.col("n_other").clip(0, 199),
        )
        .with_columns(
            n_vc=(pl.col("n_units") - pl.col("n_rc") - pl.col("n_other")).clip(0, 199),
        )
    )

    units = _build_units(stream, townships, counties)
    return Geography(counties=counties, townships=townships, units=units)


def _build_units(stream: Stream, townships: pl.DataFrame, counties: pl.DataFrame) -> pl.DataFrame:
    """Explode townships into village-level units with names, codes, households."""
    base = townships.select("township_code", "county_code", "kind", "n_rc", "n_vc", "n_other")
    parts = []
    for unit_type, col, start in (
        ("rc", "n_rc", 1),
        ("vc", "n_vc", 201),
        ("other", "n_other", 401),
    ):
        part = (
            base.filter(pl.col(col) > 0)
            .with_columns(i=pl.int_ranges(0, pl.col(col)))
            .explode("i")
            .select(
                "township_code",
                "county_code",
                pl.col("kind").alias("township_kind"),
                pl.lit(unit_type).alias("unit_type"),
                (pl.col("i") + start).alias("num"),
            )
        )
        parts.append(part)
    units = (
        pl.concat(parts)
        .with_columns(
            village_code=pl.concat_str(
                pl.col("township_code"), pl.col("num").cast(pl.String).str.zfill(3)
            )
        )
        .sort("village_code")
    )
    n = units.height
    u_ur = stream.uniform(n)
    z_h = stream.normal(n)
    u_zero = stream.uniform(n)
    u_order = stream.uniform(n)
    units = units.with_columns(
        u_ur.alias("_u"), z_h.alias("_z"), u_zero.alias("_z0"), u_order.alias("order_key")
    )
    hot = counties.select("county_code", (pl.col("hot_weight") >= 20).alias("_hot"))
    units = units.join(hot, on="county_code", how="left")
    t, k, u = pl.col("unit_type"), pl.col("township_kind"), pl.col("_u")
    urban_rural = (
        pl.when(t == "rc")
        .then(
            pl.when(k == "subdistrict")
            .then(pl.when(u < 0.85).then(pl.lit("111")).otherwise(pl.lit("112")))
            .when(k == "town")
            .then(pl.when(u < 0.78).then(pl.lit("121")).otherwise(pl.lit("122")))
            .when(k == "township")
            .then(pl.lit("210"))
            .otherwise(pl.lit("123"))
        )
        .when(t == "vc")
        .then(
            pl.when(k == "subdistrict")
            .then(pl.when(u < 0.2).then(pl.lit("112")).otherwise(pl.lit("220")))
            .when(k == "town")
            .then(
                pl.when(u < 0.88)
                .then(pl.lit("220"))
                .when(u < 0.97)
                .then(pl.lit("122"))
                .otherwise(pl.lit("121"))
            )
            .when(k == "township")
            .then(pl.when(u < 0.93).then(pl.lit("220")).otherwise(pl.lit("210")))
            .otherwise(pl.when(u < 0.85).then(pl.lit("220")).otherwise(pl.lit("123")))
        )
        .otherwise(pl.when(u < 0.4).then(pl.lit("123")).otherwise(pl.lit("220")))
    )
    median = (
        pl.when(t == "rc")
        .then(pl.lit(1500.0))
        .when(t == "vc")
        .then(pl.when(pl.col("_hot")).then(pl.lit(520.0)).otherwise(pl.lit(380.0)))
        .otherwise(pl.lit(120.0))
    )
    sigma = pl.when(t == "other").then(pl.lit(1.0)).otherwise(pl.lit(0.55))
    households = (median * (sigma * pl.col("_z")).exp()).round().clip(5, 30000).cast(pl.Int64)
    zero = ((t == "other") & (pl.col("_z0") < 0.03)) | ((t == "vc") & (pl.col("_z0") < 0.001))
    units = units.with_columns(
        urban_rural_code=urban_rural,
        households=pl.when(zero).then(pl.lit(0, dtype=pl.Int64)).otherwise(households),
    )
    # Names.
    suffix_pick = pl.Series(["农场生活区", "林场", "渔场", "管理区", "居民点"]).gather(
        (stream.uniform(n) * 5).cast(pl.Int64)
    )
    units = units.with_columns(suffix_pick.alias("_sfx"))
    units = units.with_columns(
        _name=_names(stream, n, ""),
    ).with_columns(
        village_name=pl.when(t == "vc")
        .then(pl.concat_str(pl.col("_name"), pl.lit("村")))
        .when(t == "rc")
        .then(pl.concat_str(pl.col("_name"), pl.lit("社区居委会")))
        .otherwise(pl.concat_str(pl.col("_name"), pl.col("_sfx"))),
        famous=pl.lit(False),
    )
    # Famous villages: first village committee of the famous township.
    for county, township_name, _kind, village in FAMOUS:
        t_code = townships.filter(
            (pl.col("county_code") == county) & (pl.col("township_name") == township_name)
        )["township_code"]
        if t_code.len() == 0:
            continue
        code = f"{t_code[0]}201"
        units = units.with_columns(
            village_name=pl.when(pl.col("village_code") == code)
            .then(pl.lit(village))
            .otherwise(pl.col("village_name")),
            famous=pl.col("famous") | (pl.col("village_code") == code),
            order_key=pl.when(pl.col("village_code") == code)
            .then(pl.lit(-1.0))
            .otherwise(pl.col("order_key")),
            households=pl.when(pl.col("village_code") == code)
            .then(pl.lit(1200, pl.Int64))
            .otherwise(pl.col("households")),
        )
    # Register churn: a few units appear (new communities) or disappear (merged) over time.
    u_churn = stream.uniform(n)
    u_year = stream.uniform(n)
    new = (u_churn < 0.015) & ~pl.col("famous")
    merged = (u_churn >= 0.015) & (u_churn < 0.04) & ~pl.col("famous")
    units = units.with_columns(u_churn.alias("_c"), u_year.alias("_y")).with_columns(
        first_edition=pl.when(new.fill_null(False))
        .then((2010 + pl.col("_y") * 13).floor().cast(pl.Int32))
        .otherwise(pl.lit(2009, pl.Int32)),
        last_edition=pl.when(merged.fill_null(False))
        .then((2009 + pl.col("_y") * 13).floor().cast(pl.Int32))
        .otherwise(pl.lit(2022, pl.Int32)),
    )
    return units.select(
        "village_code",
        "village_name",
        "township_code",
        "county_code",
        "unit_type",
        "township_kind",
        "urban_rural_code",
        "households",
        "famous",
        "order_key",
        "first_edition",
        "last_edition",
    )
