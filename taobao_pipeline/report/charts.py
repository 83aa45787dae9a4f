"""The report's charts as Vega-Altair specifications, one function per chart.

Each takes the rows of its query (``queries/<name>.sql``) and returns a chart with a
title, units on its axes and a source note (the subtitle). Money is drawn in RMB billion:
the axes need floats; the tables and the headline stay exact.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from taobao_pipeline import provinces as provinces_of_china

# Chinese names need a CJK font: Noto (Debian's fonts-noto-cjk), else the reader's system's
FONT = "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
WAREHOUSE = "Source: taobao-pipeline warehouse"
PUBLISHED = "published record: AliResearch via Xinhua, People's Daily, Yicai and provincial dailies"
REGIONS = list(provinces_of_china.REGIONS)  # East, Central, West, Northeast
REGION_COLORS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2"]

# the national measures of ``record.sql``: panel title and axis title with the unit
MEASURES = {
    "taobao_villages": ("Taobao villages", "Taobao villages (count)"),
    "taobao_towns": ("Taobao towns", "Taobao towns (count)"),
    "revenue_rmb": ("Revenue of Taobao villages", "Revenue (RMB billion)"),
    "active_shops": ("Active shops in Taobao villages", "Active shops (thousands)"),
}
SERIES = {
    "Computed (edition with a published figure)": "#4c78a8",
    "Computed (no published figure)": "#c6dbef",
    "Published figure": "#d62728",
}


def _title(text: str, *source: str) -> alt.TitleParams:
    return alt.TitleParams(text, subtitle=list(source), anchor="start", subtitleColor="#555")


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return chart.configure(font=FONT).configure_view(stroke=None)


def _record_panel(rows: pl.DataFrame, measure: str) -> alt.LayerChart:
    heading, unit = MEASURES[measure]
    data = rows.filter(pl.col("measure") == measure).with_columns(
        series=pl.when(pl.col("no_published_figure"))
        .then(pl.lit("Computed (no published figure)"))
        .otherwise(pl.lit("Computed (edition with a published figure)")),
        reference=pl.lit("Published figure"),
    )
    scale = alt.Scale(domain=list(SERIES), range=list(SERIES.values()))
    legend = alt.Legend(orient="bottom", columns=2, labelLimit=320)
    color = alt.Color("series:N", title=None, scale=scale, legend=legend)
    tooltip = [
        alt.Tooltip("edition:O", title="Edition"),
        alt.Tooltip("computed:Q", title=f"Computed, {unit}", format=",.2~f"),
        alt.Tooltip("published:Q", title=f"Published, {unit}", format=",.2~f"),
        alt.Tooltip("source:N", title="Source of the published figure"),
    ]
    base = alt.Chart(data).encode(x=alt.X("edition:O", title="Edition"))
    bars = base.mark_bar().encode(y=alt.Y("computed:Q", title=unit), color=color, tooltip=tooltip)
    marks = (
        base.transform_filter("datum.published != null")
        .mark_point(size=70, filled=True, shape="diamond", opacity=1)
        .encode(
            y="published:Q",
            color=alt.Color("reference:N", title=None, scale=scale, legend=legend),
            tooltip=tooltip,
        )
    )
    return alt.layer(bars, marks).properties(title=heading, width=330, height=220)


def record(rows: pl.DataFrame, measures: list[str], title: str) -> alt.HConcatChart:
    """Computed national measures per edition (bars) against the published record (points);
    editions without a published figure have pale bars and no point."""
    chart = alt.hconcat(*(_record_panel(rows, m) for m in measures)).properties(
        title=_title(title, f"{WAREHOUSE} (national_summary, reconciliation); {PUBLISHED}.")
    )
    return _configure(chart.resolve_scale(color="shared"))


def regions(rows: pl.DataFrame) -> alt.LayerChart:
    """Taobao villages by region per edition (stacked), and the share outside the East."""
    base = alt.Chart(rows).encode(x=alt.X("edition:O", title="Edition"))
    bars = (
        base.mark_bar()
        .encode(
            y=alt.Y("sum(taobao_villages):Q", title="Taobao villages (count)"),
            color=alt.Color(
                "region:N",
                title="Region",
                sort=REGIONS,
                scale=alt.Scale(domain=REGIONS, range=REGION_COLORS),
            ),
            order=alt.Order("region_order:Q"),
            tooltip=[
                alt.Tooltip("edition:O", title="Edition"),
                alt.Tooltip("region:N", title="Region"),
                alt.Tooltip("taobao_villages:Q", title="Taobao villages", format=","),
            ],
        )
        .transform_calculate(region_order=f"indexof({REGIONS}, datum.region)")
    )
    share = base.mark_line(point=True, color="#222", strokeDash=[4, 2]).encode(
        y=alt.Y(
            "mean(share_outside_east):Q",
            title="Share outside the East (%, dashed line)",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
        tooltip=[
            alt.Tooltip("edition:O", title="Edition"),
            alt.Tooltip("mean(share_outside_east):Q", title="Outside the East", format=".1%"),
        ],
    )
    chart = (
        alt.layer(bars, share)
        .resolve_scale(y="independent")
        .properties(
            width=640,
            height=280,
            title=_title(
                "The shift inland: Taobao villages by region",
                f"{WAREHOUSE} (province_summary, national_summary); regions of the National "
                "Bureau of Statistics.",
            ),
        )
    )
    return _configure(chart)


def provinces(rows: pl.DataFrame, editions: list[int]) -> alt.HConcatChart:
    """A tile-grid map of China coloured by Taobao villages, and the provinces ranked, for
    the edition chosen in the selector."""
    edition = alt.param(
        name="edition",
        value=editions[-1],
        bind=alt.binding_select(options=editions, name="Edition "),
    )
    tooltip = [
        alt.Tooltip("province:N", title="Province"),
        alt.Tooltip("edition:O", title="Edition"),
        alt.Tooltip("taobao_villages:Q", title="Taobao villages", format=","),
        alt.Tooltip("taobao_towns:Q", title="Taobao towns", format=","),
        alt.Tooltip("revenue_rmb_bn:Q", title="Revenue (RMB billion)", format=",.2f"),
    ]
    chosen = alt.Chart(rows).transform_filter("datum.edition == edition")
    axis = alt.Axis(labels=False, ticks=False, domain=False, title=None)
    tiles = chosen.mark_rect(stroke="white", strokeWidth=2).encode(
        x=alt.X("col:O", axis=axis),
        y=alt.Y("row:O", axis=axis),
        # provinces without a Taobao village in grey, apart from those with one
        color=alt.condition(
            "datum.taobao_villages > 0",
            alt.Color(
                "taobao_villages:Q",
                title="Taobao villages",
                scale=alt.Scale(scheme="orangered", domainMin=0),
            ),
            alt.value("#e4e4e4"),
        ),
        tooltip=tooltip,
    )
    labels = chosen.mark_text(fontSize=11, baseline="middle").encode(
        x="col:O",
        y="row:O",
        text="short:N",
        color=alt.condition("datum.taobao_villages > 0", alt.value("#111"), alt.value("#777")),
        tooltip=tooltip,
    )
    grid = alt.layer(tiles, labels).properties(
        name="map", width=360, height=360, title="Map (one square per province)"
    )
    ranked = (
        chosen.transform_filter("datum.taobao_villages > 0")
        .mark_bar(color="#e6550d")
        .encode(
            y=alt.Y("province:N", sort="-x", title=None),
            x=alt.X("taobao_villages:Q", title="Taobao villages (count)"),
            tooltip=tooltip,
        )
        .properties(name="ranked", width=300, title="Provinces ranked")
    )
    chart = (
        alt.hconcat(grid, ranked)
        .add_params(edition)
        .properties(
            title=_title(
                "Taobao villages by province",
                f"{WAREHOUSE} (province_summary); choose the edition below the charts.",
            )
        )
    )
    return _configure(chart)


#: AliResearch's tiers of Taobao village clusters, as ``clusters.sql`` names them
TIERS = ["cluster (10-29)", "large (30-99)", "super-large (100+)"]
TIER_COLORS = ["#a1d99b", "#31a354", "#006d2c"]


def clusters(rows: pl.DataFrame) -> alt.LayerChart:
    """Clusters per edition by tier (stacked bars), the share of Taobao villages inside
    clusters (line) and the published figures (red diamonds)."""
    base = alt.Chart(rows).encode(x=alt.X("edition:O", title="Edition"))
    tooltip = [
        alt.Tooltip("edition:O", title="Edition"),
        alt.Tooltip("all_clusters:Q", title="Clusters (all tiers)", format=","),
        alt.Tooltip("published_clusters:Q", title="Clusters, published", format=","),
        alt.Tooltip("share_in_clusters:Q", title="Villages inside clusters", format=".1%"),
        alt.Tooltip("published_share:Q", title="Inside clusters, published", format=".0%"),
    ]
    bars = (
        base.mark_bar()
        .encode(
            y=alt.Y("clusters:Q", title="Clusters (count)", stack="zero"),
            color=alt.Color(
                "tier:N",
                title="Tier (Taobao villages in the county-level unit)",
                sort=TIERS,
                scale=alt.Scale(domain=TIERS, range=TIER_COLORS),
                legend=alt.Legend(orient="bottom", labelLimit=320, titleLimit=400),
            ),
            order=alt.Order("tier_order:Q"),
            tooltip=[
                alt.Tooltip("tier:N", title="Tier"),
                alt.Tooltip("clusters:Q", title="Clusters"),
            ]
            + tooltip,
        )
        .transform_calculate(tier_order=f"indexof({TIERS}, datum.tier)")
    )
    published = (
        base.transform_filter("datum.published_clusters != null")
        .mark_point(size=70, filled=True, shape="diamond", color="#d62728", opacity=1)
        .encode(y="mean(published_clusters):Q", tooltip=tooltip)
    )
    share_title = "Share of Taobao villages inside clusters (dashed line)"
    share_axis = alt.Y(
        "mean(share_in_clusters):Q",
        title=share_title,
        axis=alt.Axis(format="%"),
        scale=alt.Scale(domain=[0, 1]),
    )
    share = base.mark_line(point=True, color="#222", strokeDash=[4, 2]).encode(
        y=share_axis, tooltip=tooltip
    )
    published_share = (
        base.transform_filter("datum.published_share != null")
        .mark_point(size=70, filled=True, shape="diamond", color="#d62728", opacity=1)
        .encode(
            y=alt.Y(
                "mean(published_share):Q",
                title=share_title,
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            tooltip=tooltip,
        )
    )
    chart = (
        alt.layer(alt.layer(bars, published), alt.layer(share, published_share))
        .resolve_scale(y="independent")
        .properties(
            width=640,
            height=280,
            title=_title(
                "Taobao village clusters by tier, and the share of villages inside them",
                f"{WAREHOUSE} (national_summary, reconciliation); {PUBLISHED} (red diamonds).",
                "A cluster is a county-level unit with 10 or more Taobao villages, standing "
                "in for AliResearch's 'adjoining' villages.",
            ),
        )
    )
    return _configure(chart)


def counties(rows: pl.DataFrame, editions: list[int]) -> alt.Chart:
    """The county-level units with the most Taobao villages in the edition chosen in the
    selector (the latest by default), coloured by cluster tier."""
    edition = alt.param(
        name="county_edition",
        value=editions[-1],
        bind=alt.binding_select(options=editions, name="Edition "),
    )
    label = pl.col("county").fill_null(pl.col("county_code"))
    data = rows.with_columns(label=label + " (" + pl.col("province").fill_null("") + ")")
    domain = [*TIERS, "below 10"]
    names = {"cluster": TIERS[0], "large": TIERS[1], "super_large": TIERS[2]}
    data = data.with_columns(tier=pl.col("tier").replace(names))
    chart = (
        alt.Chart(data)
        .transform_filter("datum.edition == county_edition")
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort="-x", title=None),
            x=alt.X("taobao_villages:Q", title="Taobao villages (count)"),
            color=alt.Color(
                "tier:N",
                title="Tier",
                sort=domain,
                scale=alt.Scale(domain=domain, range=[*TIER_COLORS, "#bdbdbd"]),
            ),
            tooltip=[
                alt.Tooltip("edition:O", title="Edition"),
                alt.Tooltip("county:N", title="County-level unit"),
                alt.Tooltip("province:N", title="Province"),
                alt.Tooltip("tier:N", title="Tier"),
                alt.Tooltip("taobao_villages:Q", title="Taobao villages", format=","),
                alt.Tooltip("taobao_towns:Q", title="Taobao towns", format=","),
                alt.Tooltip("active_shops:Q", title="Active shops", format=","),
                alt.Tooltip("revenue_rmb_bn:Q", title="Revenue (RMB billion)", format=",.2f"),
            ],
        )
        .add_params(edition)
        .properties(
            width=520,
            title=_title(
                "The county-level units with the most Taobao villages",
                f"{WAREHOUSE} (county_summary); choose the edition below the chart.",
            ),
        )
    )
    return _configure(chart)


def audit(rows: pl.DataFrame) -> alt.FacetChart:
    """Rows read per source and edition, split into accepted and rejected."""
    tooltip = [
        alt.Tooltip("edition:O", title="Edition"),
        alt.Tooltip("source:N", title="Source"),
        alt.Tooltip("rows_read:Q", title="Rows read", format=","),
        alt.Tooltip("rows_accepted:Q", title="Accepted", format=","),
        alt.Tooltip("rows_rejected:Q", title="Rejected", format=","),
        alt.Tooltip("rejected_share:Q", title="Rejected share", format=".2%"),
    ]
    chart = (
        alt.Chart(rows)
        .transform_fold(["rows_accepted", "rows_rejected"], as_=["outcome", "rows"])
        .transform_calculate(outcome="datum.outcome == 'rows_accepted' ? 'accepted' : 'rejected'")
        .mark_bar()
        .encode(
            x=alt.X("edition:O", title="Edition"),
            y=alt.Y("rows:Q", title="Rows (count)", stack="zero"),
            color=alt.Color(
                "outcome:N",
                title="Rows",
                scale=alt.Scale(domain=["accepted", "rejected"], range=["#9ecae1", "#d62728"]),
            ),
            tooltip=tooltip,
        )
        .properties(width=220, height=200)
        .facet(column=alt.Column("source:N", title="Source", sort=["villages", "shops", "revenue"]))
        .resolve_scale(y="independent")
        .properties(
            title=_title(
                "Data quality: rows read, accepted and rejected",
                f"{WAREHOUSE} (load_audit); rows read = accepted + rejected.",
            )
        )
    )
    return _configure(chart)


def reasons(rows: pl.DataFrame) -> alt.Chart:
    """Rejected rows by the rule they broke, per source, over all editions."""
    chart = (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=420)),
            x=alt.X("sum(rows_rejected):Q", title="Rejected rows (count, all editions)"),
            color=alt.Color("source:N", title="Source", sort=["villages", "shops", "revenue"]),
            tooltip=[
                alt.Tooltip("source:N", title="Source"),
                alt.Tooltip("reason:N", title="Reason"),
                alt.Tooltip("rows_rejected:Q", title="Rejected rows", format=","),
            ],
        )
        .properties(
            width=420,
            title=_title(
                "Data quality: rejections by reason",
                f"{WAREHOUSE} (rejected_rows); a row that breaks several rules counts under each.",
            ),
        )
    )
    return _configure(chart)


def official(rows: pl.DataFrame) -> alt.FacetChart:
    """Villages of an imported official list against those computed, per province."""
    chart = (
        alt.Chart(rows)
        .transform_fold(["listed_villages", "computed_villages"], as_=["side", "villages"])
        .transform_calculate(
            side="datum.side == 'listed_villages' ? 'Listed (official list)' : 'Computed'"
        )
        .mark_bar()
        .encode(
            x=alt.X("province:N", sort="-y", title=None, axis=alt.Axis(labelAngle=-45)),
            xOffset="side:N",
            y=alt.Y("villages:Q", title="Taobao villages (count)"),
            color=alt.Color(
                "side:N",
                title=None,
                scale=alt.Scale(
                    domain=["Listed (official list)", "Computed"], range=["#d62728", "#4c78a8"]
                ),
            ),
            tooltip=[
                alt.Tooltip("edition:O", title="Edition"),
                alt.Tooltip("province:N", title="Province"),
                alt.Tooltip("listed_villages:Q", title="Listed", format=","),
                alt.Tooltip("computed_villages:Q", title="Computed", format=","),
                alt.Tooltip("difference:Q", title="Computed - listed", format="+,"),
            ],
        )
        .properties(width=alt.Step(12), height=200)
        .facet(row=alt.Row("edition:O", title="Edition"))
        .resolve_scale(x="independent")
        .properties(
            title=_title(
                "Official lists: listed against computed villages per province",
                f"{WAREHOUSE} (official_reconciliation); lists imported with import-list or "
                "from data/raw/<edition>/official/.",
            )
        )
    )
    return _configure(chart)
