"""The HTML report: its numbers, its place in a run, and the file in a real Chromium."""

from __future__ import annotations

import base64
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import pytest

from taobao_pipeline.report import report_path
from taobao_pipeline.report.build import RUNTIME_MARK, build_report, cache_dir, vega_bundle
from taobao_pipeline.report.charts import SERIES
from taobao_pipeline_tests.browser import CHROMIUM, CHROMIUM_ARGS, browser_missing
from taobao_pipeline_tests.generated_run import GeneratedRun
from taobao_pipeline_tests.prerequisites import require
from taobao_pipeline_tests.warehouse_queries import read_table

CHARTS = [
    "chart-record",
    "chart-money",
    "chart-regions",
    "chart-provinces",
    "chart-clusters",
    "chart-counties",
    "chart-audit",
    "chart-reasons",
    "chart-official",
]
TILES = "#chart-provinces g.map_layer_0_marks path"


class _Headline(HTMLParser):
    """measure -> (data-value, shown text) of the report's headline figures."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, tuple[str, str]] = {}
        self._open: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "dd" and "data-measure" in a:
            self._open = (a["data-measure"] or "", a["data-value"] or "")

    def handle_data(self, data: str) -> None:
        if self._open:
            self.figures[self._open[0]] = (self._open[1], data)
            self._open = None


@pytest.fixture(scope="module")
def report(generated_run: GeneratedRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    build_report(generated_run.warehouse, out)
    return out


def test_run_writes_the_report_and_prints_its_path(generated_run: GeneratedRun) -> None:
    path = report_path(generated_run.warehouse)
    assert path.is_file()
    assert f"Report: {path}" in generated_run.run_output.splitlines()


def test_headline_numbers_equal_the_warehouse(report: Path, generated_run: GeneratedRun) -> None:
    parser = _Headline()
    parser.feed(report.read_text(encoding="utf-8"))
    figures = parser.figures
    [(edition, villages, towns, revenue, shops, provinces)] = read_table(
        generated_run.warehouse,
        "SELECT edition, taobao_villages, taobao_towns, revenue_rmb, active_shops, provinces "
        "FROM national_summary ORDER BY edition DESC LIMIT 1",
    )
    [(first_villages,)] = read_table(
        generated_run.warehouse,
        "SELECT taobao_villages FROM national_summary ORDER BY edition LIMIT 1",
    )
    assert edition == 2020
    assert figures["taobao_villages"] == (str(villages), f"{villages:,}")
    assert figures["taobao_towns"] == (str(towns), f"{towns:,}")
    assert Decimal(figures["revenue_rmb"][0]) == revenue  # exact, to the fen
    assert figures["revenue_rmb"][1] == f"RMB {revenue / Decimal('1e9'):,.1f} billion"
    assert figures["active_shops"] == (str(shops), f"{shops:,}")
    assert figures["provinces"][0] == str(provinces)
    assert figures["first_taobao_villages"][0] == str(first_villages)


def test_the_report_asset_shows_the_file_the_headline_and_the_charts(
    generated_run: GeneratedRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(generated_run.dagster_home))
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("report"))
    assert event is not None and event.asset_materialization is not None
    metadata = event.asset_materialization.metadata
    path = report_path(generated_run.warehouse)
    assert metadata["path"] == dg.MetadataValue.path(str(path.resolve()))
    for chart in ("chart_provinces", "chart_top_counties", "chart_villages_and_towns"):
        shown = metadata[chart].value  # markdown with the PNG inside: the UI shows it
        png = base64.b64decode(shown.split("base64,", 1)[1].rstrip(")"))
        assert png.startswith(b"\x89PNG\r\n") and len(png) > 10_000, chart
    [(villages, towns)] = read_table(
        generated_run.warehouse,
        "SELECT taobao_villages, taobao_towns FROM national_summary WHERE edition = 2020",
    )
    assert metadata["taobao_villages"].value == villages
    assert metadata["taobao_towns"].value == towns
    assert f"| Taobao villages, 2020 | {villages:,} |" in metadata["headline"].value


def test_the_report_in_a_real_browser(report: Path, tmp_path: Path) -> None:
    missing = browser_missing()
    require(missing is None, f"no browser: {missing}")
    from playwright.sync_api import sync_playwright

    url = report.resolve().as_uri()
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            # anything but the page itself is refused, so a fetch could not succeed unseen
            page.route(
                "**/*",
                lambda route: route.continue_() if route.request.url == url else route.abort(),
            )
            page.goto(url)
            page.wait_for_function("document.body.dataset.rendered !== undefined")
            assert page.evaluate("document.body.dataset.rendered") == str(len(CHARTS))
            for chart in CHARTS:
                marks = page.locator(f"#{chart} svg g.role-mark > *").count()
                assert marks > 0, f"{chart} has no marks"

            # editions without a published figure (2012) are drawn apart from the others
            fills = page.eval_on_selector_all(
                "#chart-record g.role-mark path", "els => els.map(e => e.getAttribute('fill'))"
            )
            # computed with and without a published figure, and the published figures
            assert set(SERIES.values()) <= set(fills)

            # Chinese names are drawn as text (the province labels of the map)
            labels = page.locator("#chart-provinces g.map_layer_1_marks text").all_text_contents()
            assert "浙江" in labels and len(labels) == 31

            # the edition selector redraws the map
            before = page.eval_on_selector_all(TILES, "els => els.map(e => e.getAttribute('fill'))")
            assert all("Edition: 2020" in a for a in _aria(page))
            page.select_option("#chart-provinces select", "2012")
            page.wait_for_function(
                f"document.querySelector('{TILES}').getAttribute('aria-label')"
                ".includes('Edition: 2012')"
            )
            after = page.eval_on_selector_all(TILES, "els => els.map(e => e.getAttribute('fill'))")
            assert len(after) == len(before) == 31
            assert after != before
            assert all("Edition: 2012" in a for a in _aria(page))

            # a tooltip names the province under the pointer
            page.locator(TILES).first.hover(force=True)
            page.wait_for_selector("#vg-tooltip-element.visible")
            assert "Province" in page.inner_text("#vg-tooltip-element")

            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert errors == []
    assert requests == [url]


def _aria(page) -> list[str]:
    return page.eval_on_selector_all(TILES, "els => els.map(e => e.getAttribute('aria-label'))")


def test_rejection_reasons_group_the_same_rule(generated_run: GeneratedRun) -> None:
    """The reasons chart's query drops a duplicate's row and a window's months."""
    import duckdb

    from taobao_pipeline.report.build import query

    conn = duckdb.connect(str(generated_run.warehouse), read_only=True)
    try:
        reasons = query(conn, "reasons")
        [(total,)] = conn.execute(
            "SELECT count(*) FROM (SELECT unnest(string_split(reason, '; ')) FROM rejected_rows)"
        ).fetchall()
    finally:
        conn.close()
    assert reasons["rows_rejected"].sum() == total
    assert not any(re.search(r"row \d+|\d{4}-\d{2}\.\.", r) for r in reasons["reason"])


def test_the_vega_runtime_is_built_once_then_read_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime vl-convert builds (about 1 s) is kept in the user's cache, under its
    versions' names; a cached file that is not the runtime is built again, and a cache
    that cannot be written, or no home at all, only costs the build."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    built = vega_bundle()
    [cached] = (tmp_path / "cache" / "taobao-pipeline").glob("vega-bundle-vl*-vl-convert*.js")
    assert cached.read_text(encoding="utf-8") == built
    assert RUNTIME_MARK in built
    cached.write_text(f"// {RUNTIME_MARK}, kept", encoding="utf-8")  # read, not rebuilt
    assert vega_bundle() == f"// {RUNTIME_MARK}, kept"
    cached.write_text("", encoding="utf-8")  # not the runtime: built and kept again
    assert vega_bundle() == built == cached.read_text(encoding="utf-8")
    assert not list(cached.parent.glob(".*.tmp"))
    (tmp_path / "not-a-folder").write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    assert vega_bundle() == built
    # a relative XDG_CACHE_HOME is ignored (the XDG specification): the home's .cache
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "taobao-pipeline"

    # no home at all (no HOME, no entry in the password database): built, not kept
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert cache_dir() is None and vega_bundle() == built
