"""The report: one self-contained HTML file of the warehouse's story, charts inlined.

The data come from the warehouse, opened read-only, through the queries in ``queries/``.
Vega-Altair writes each chart as a Vega-Lite specification; ``vl-convert-python`` gives
the Vega, Vega-Lite and Vega-Embed runtime as one script, which goes inline with the
specifications: the file opens from disk with no network.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from string import Template

import altair as alt
import duckdb
import polars as pl
import vl_convert

from taobao_pipeline.report import charts
from taobao_pipeline.report.tiles import tiles
from taobao_pipeline.version import code_version
from taobao_pipeline.warehouse import Warehouse

TOP_COUNTIES = 20
_FILES = resources.files("taobao_pipeline.report")


def query(conn: duckdb.DuckDBPyConnection, name: str, **params: object) -> pl.DataFrame:
    """The rows of ``queries/<name>.sql``."""
    sql = (_FILES / "queries" / f"{name}.sql").read_text(encoding="utf-8")
    return conn.sql(sql, params=params or None).pl()


@dataclass(frozen=True)
class Headline:
    """The latest edition's national figures, exact (money as Decimal)."""

    edition: int
    taobao_villages: int
    taobao_towns: int
    revenue_rmb: Decimal
    active_shops: int
    provinces: int
    share_outside_east: float | None
    first_edition: int
    first_taobao_villages: int
    editions: int

    def figures(self) -> list[tuple[str, str, str]]:
        """(measure, label, shown value) of each headline figure."""
        share = self.share_outside_east
        return [
            ("taobao_villages", f"Taobao villages, {self.edition}", f"{self.taobao_villages:,}"),
            ("taobao_towns", f"Taobao towns, {self.edition}", f"{self.taobao_towns:,}"),
            ("revenue_rmb", "Revenue of Taobao villages", _rmb(self.revenue_rmb)),
            ("active_shops", "Active shops in them", f"{self.active_shops:,}"),
            ("provinces", "Provinces with a Taobao village", f"{self.provinces:,}"),
            (
                "share_outside_east",
                "Outside the East",
                "n/a" if share is None else f"{share:.1%}",
            ),
            (
                "first_taobao_villages",
                f"Taobao villages, {self.first_edition}",
                f"{self.first_taobao_villages:,}",
            ),
        ]

    def preview(self) -> dict[str, object]:
        """The figures as plain values (Dagster metadata): money as exact text."""
        return {
            name: str(value) if isinstance(value, Decimal) else value
            for name, value in self.__dict__.items()
        }


def _rmb(amount: Decimal) -> str:
    """RMB in words a reader of the annual reports knows: billion or trillion."""
    if amount >= Decimal("1e12"):
        return f"RMB {amount / Decimal('1e12'):,.2f} trillion"
    if amount >= Decimal("1e9"):
        return f"RMB {amount / Decimal('1e9'):,.1f} billion"
    return f"RMB {amount / Decimal('1e6'):,.1f} million"


@dataclass(frozen=True)
class Report:
    """A written report: its file, headline, size and build time."""

    path: Path
    headline: Headline
    editions: list[int]
    charts: list[str]
    bytes: int
    seconds: float
    specs: dict = field(default_factory=dict, repr=False)  # each chart's Vega-Lite spec


def read_headline(conn: duckdb.DuckDBPyConnection) -> Headline:
    """The headline figures of the warehouse open on ``conn``."""
    rows = query(conn, "headline").to_dicts()
    if not rows:
        raise ValueError("the warehouse holds no edition yet: run the pipeline first")
    return Headline(**rows[0])


def _table_exists(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = $t",
            {"t": name},
        ).fetchall()[0][0]
    )


# (element id, heading, what the reader sees): the report's sections, in order
SECTIONS = [
    (
        "chart-record",
        "The count against the published record",
        "Taobao villages and towns the pipeline designates in each edition (bars) and the figure "
        "AliResearch published (red diamonds). Pale bars mark editions without a published "
        "figure.",
    ),
    (
        "chart-money",
        "Revenue and active shops",
        "Yearly sales of the shops in Taobao villages and their active shops, against the "
        "published figures where there are any.",
    ),
    (
        "chart-regions",
        "The shift inland",
        "Taobao villages by economic region, and the share outside the East (dashed line).",
    ),
    (
        "chart-provinces",
        "Provinces",
        "Each square is a province at its approximate place; the colour is its number of Taobao "
        "villages. The selector below the charts changes the edition of the map and the ranking.",
    ),
    (
        "chart-clusters",
        "Clusters",
        "AliResearch's Taobao village clusters per edition: county-level units with 10 or "
        "more Taobao villages (large from 30, super-large from 100; the unit stands in for "
        "'adjoining', the data carrying no coordinates), and the share of villages inside "
        "them, against the published figures.",
    ),
    (
        "chart-counties",
        "The top counties",
        "The county-level units with the most Taobao villages, coloured by tier; the selector "
        "below the chart changes the edition.",
    ),
    (
        "chart-audit",
        "Data quality: rows read",
        "Every input row is either loaded or rejected with its reason (hover for the counts).",
    ),
    (
        "chart-reasons",
        "Data quality: rejections by reason",
        "The rules the rejected rows broke, over all editions.",
    ),
    (
        "chart-official",
        "Official lists",
        "Where a published list was imported: listed against computed villages per province.",
    ),
]


def build_specs(conn: duckdb.DuckDBPyConnection) -> tuple[Headline, list[int], dict]:
    """The headline, the editions and each section's Vega-Lite specification (None where
    the warehouse holds nothing to draw)."""
    headline = read_headline(conn)
    record = query(conn, "record")
    editions = sorted(record["edition"].unique().to_list())
    conn.register("tiles", tiles().to_arrow())
    try:
        provinces = query(conn, "provinces")
    finally:
        conn.unregister("tiles")
    official = query(conn, "official") if _table_exists(conn, "official_reconciliation") else None
    # a warehouse of an earlier version has no county table until its next run
    counties = _table_exists(conn, "county_summary")
    reasons = query(conn, "reasons")
    charts_by_id = {
        "chart-record": charts.record(
            record,
            ["taobao_villages", "taobao_towns"],
            "Taobao villages and towns per edition, computed and published",
        ),
        "chart-money": charts.record(
            record,
            ["revenue_rmb", "active_shops"],
            "Revenue and active shops of Taobao villages per edition",
        ),
        "chart-regions": charts.regions(query(conn, "regions")),
        "chart-provinces": charts.provinces(provinces, editions),
        "chart-clusters": charts.clusters(query(conn, "clusters")) if counties else None,
        "chart-counties": charts.counties(query(conn, "counties", top=TOP_COUNTIES), editions)
        if counties
        else None,
        "chart-audit": charts.audit(query(conn, "audit")),
        "chart-reasons": charts.reasons(reasons) if reasons.height else None,
        "chart-official": charts.official(official)
        if official is not None and official.height
        else None,
    }
    specs = {k: c.to_dict() if c is not None else None for k, c in charts_by_id.items()}
    return headline, editions, specs


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def _vegalite_minor() -> str:
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def cache_dir() -> Path | None:
    """Where the pipeline keeps what it can rebuild: the user's cache (``XDG_CACHE_HOME``,
    if absolute, as the XDG specification asks; else ``~/.cache``); None without a home."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no entry in the password database
            return None
    return Path(base) / "taobao-pipeline"


RUNTIME_MARK = "vegaEmbed"  # the runtime defines it; a file without it is not the runtime


def vega_bundle() -> str:
    """The Vega, Vega-Lite and Vega-Embed runtime to inline, as one script.

    vl-convert builds it in about 1 s, the same text each time for its version: it is kept
    in the cache under both versions' names, written whole (synced, then renamed into
    place) or not at all. A cached file that is not the runtime is built again; a cache
    that cannot be written (a read-only home, none) only costs the build."""
    vl_version = _vegalite_minor()
    folder = cache_dir()
    name = f"vega-bundle-vl{vl_version}-vl-convert{vl_convert.__version__}.js"
    path = folder / name if folder else None
    if path is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            cached = path.read_text(encoding="utf-8")
            if RUNTIME_MARK in cached:
                return cached
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    if path is not None:
        with contextlib.suppress(OSError):  # a cache: not kept only costs the next build
            _write_whole(path, bundle)
    return bundle


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a temporary file beside it, synced,
    then renamed into place (a reader, or a crash, never sees half of it)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def render(headline: Headline, editions: list[int], specs: dict, warehouse: Path) -> str:
    """The HTML page of a report."""
    bundle = vega_bundle()
    if "</script" in bundle.lower():  # would end the inline script early
        raise RuntimeError("the Vega bundle cannot be inlined: it contains </script")
    headline_html = "\n".join(
        f'<div><dt>{html.escape(label)}</dt><dd data-measure="{name}" '
        f'data-value="{html.escape(str(getattr(headline, name)))}">{html.escape(shown)}</dd></div>'
        for name, label, shown in headline.figures()
    )
    sections = []
    for element, heading, text in SECTIONS:
        body = (
            f'<div class="chart" id="{element}"></div>'
            if specs[element] is not None
            else '<p class="none">Nothing to draw: the warehouse holds no rows for this.</p>'
        )
        sections.append(f"<h2>{html.escape(heading)}</h2>\n<p>{html.escape(text)}</p>\n{body}")
    page = Template((_FILES / "page.html").read_text(encoding="utf-8"))
    return page.substitute(
        version=html.escape(code_version()["text"]),
        first_edition=editions[0],
        last_edition=editions[-1],
        font=charts.FONT,
        bundle=bundle,
        headline=headline_html,
        sections="\n".join(sections),
        created_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        warehouse=html.escape(str(warehouse)),
        vegalite_version=alt.SCHEMA_VERSION.lstrip("v"),
        specs=_script_json({k: v for k, v in specs.items() if v is not None}),
    )


def build_report(warehouse: Path | str, out: Path | str) -> Report:
    """Write the report of ``warehouse`` to ``out`` (atomically: a reader never sees half)."""
    started = time.perf_counter()
    warehouse, out = Path(warehouse), Path(out)
    with Warehouse(warehouse).read_only() as conn:
        headline, editions, specs = build_specs(conn)
    _write_whole(out, render(headline, editions, specs, warehouse))
    return Report(
        path=out,
        headline=headline,
        editions=editions,
        charts=[k for k, v in specs.items() if v is not None],
        bytes=out.stat().st_size,
        seconds=time.perf_counter() - started,
        specs={k: v for k, v in specs.items() if v is not None},
    )
