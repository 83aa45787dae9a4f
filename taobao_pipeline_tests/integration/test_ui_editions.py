"""Each edition's story in the UI after a range run: what the webserver serves over GraphQL
for each edition, and the asset page of one edition as Chromium shows it.

The generated run (``generated_run``) ran 2019-2020 as one range run (a single-run
backfill), and 2012 and 2016 on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from taobao_pipeline_tests.browser import CHROMIUM, CHROMIUM_ARGS, browser_missing
from taobao_pipeline_tests.generated_run import GeneratedRun
from taobao_pipeline_tests.prerequisites import require
from taobao_pipeline_tests.services import graphql
from taobao_pipeline_tests.services import webserver as serve
from taobao_pipeline_tests.warehouse_queries import read_table

RANGE = ("2019", "2020")


@pytest.fixture(scope="module")
def webserver(generated_run: GeneratedRun) -> Iterator[int]:
    run = generated_run
    with serve(run.dagster_home, run.root / "raw", run.warehouse) as port:
        yield port


def _latest(port: int, asset: str, edition: str) -> dict[str, object]:
    """The metadata of the latest materialization of ``asset``'s ``edition``, as the UI
    reads it: label -> value."""
    data = graphql(
        port,
        f'{{ assetOrError(assetKey: {{path: ["{asset}"]}}) {{ ... on Asset {{ '
        f'assetMaterializations(partitions: ["{edition}"], limit: 1) {{ partition runId '
        "metadataEntries { label ... on IntMetadataEntry { intValue } "
        "... on FloatMetadataEntry { floatValue } ... on TextMetadataEntry { text } "
        "... on MarkdownMetadataEntry { mdStr } } } } } }",
    )
    [latest] = data["assetOrError"]["assetMaterializations"]
    assert latest["partition"] == edition
    values: dict[str, object] = {"run": latest["runId"]}
    for e in latest["metadataEntries"]:
        values[e["label"]] = next(
            (e[k] for k in ("intValue", "floatValue", "text", "mdStr") if k in e), None
        )
    return values


def _in_words(revenue: Decimal) -> re.Pattern[str]:
    """The revenue as the UI says it, written from what it means, not by the code that says
    it: three figures in millions, billions or trillions, then exact to the fen."""
    exact = re.escape(f"{revenue:,.2f}")
    return re.compile(rf"RMB (\d+(?:\.\d+)?) (million|billion|trillion) \({exact}\)")


def _says(text: str, revenue: Decimal) -> bool:
    """Whether ``text`` holds ``revenue`` in words (three figures, within half a percent),
    then exactly."""
    units = {"million": 10**6, "billion": 10**9, "trillion": 10**12}
    return any(
        len(figure.replace(".", "")) == 3
        and abs(Decimal(figure) * units[unit] - revenue) <= revenue / 200
        for figure, unit in _in_words(revenue).findall(text)
    )


def _national(warehouse: Path, edition: str) -> tuple:
    [row] = read_table(
        warehouse,
        "SELECT taobao_villages, taobao_towns, revenue_rmb, active_shops FROM national_summary "
        f"WHERE edition = {edition}",
    )
    return row


def test_a_range_run_records_each_editions_own_figures(
    webserver: int, generated_run: GeneratedRun
) -> None:
    seen = {}
    for edition in RANGE:
        villages, towns, revenue, shops = _national(generated_run.warehouse, edition)
        shown = _latest(webserver, "taobao_villages", edition)
        assert shown["dagster/partition_row_count"] == villages
        assert shown["taobao_villages"] == villages and shown["taobao_towns"] == towns
        assert shown["active_shops"] == shops
        # revenue in words, then exact to the fen, both from the DECIMAL
        said = str(shown["revenue"])
        assert _in_words(Decimal(revenue)).fullmatch(said), said
        assert _says(said, Decimal(revenue)), (said, revenue)
        [(top,)] = read_table(
            generated_run.warehouse,
            f"SELECT village_name FROM taobao_villages WHERE edition = {edition} "
            "ORDER BY revenue_rmb DESC, village_code LIMIT 1",
        )
        first_row = str(shown["top_villages"]).splitlines()[2]
        assert first_row.startswith(f"| {top} |"), shown["top_villages"]
        national = _latest(webserver, "national_summary", edition)
        assert national["taobao_villages"] == villages  # a number: plotted per edition
        seen[edition] = shown
    # one run made both editions, and each carries its own figures
    assert seen["2019"]["run"] == seen["2020"]["run"]
    assert seen["2019"]["taobao_villages"] != seen["2020"]["taobao_villages"]


def test_each_edition_has_its_provinces_as_a_table(
    webserver: int, generated_run: GeneratedRun
) -> None:
    shown = _latest(webserver, "province_summary", "2020")
    [(province, villages)] = read_table(
        generated_run.warehouse,
        "SELECT province_name, taobao_villages FROM province_summary WHERE edition = 2020 "
        "ORDER BY taobao_villages DESC, revenue_rmb DESC, province_code LIMIT 1",
    )
    lines = str(shown["provinces_with_taobao_villages"]).splitlines()
    assert lines[0].startswith("| province | region | taobao_villages")
    assert lines[2].startswith(f"| {province} | ") and f" | {villages:,} | " in lines[2]


def test_checks_are_judged_per_edition_in_words(webserver: int) -> None:
    data = graphql(
        webserver,
        '{ assetCheckExecutions(assetKey: {path: ["shop_sales"]}, checkName: "rejected_share", '
        "limit: 20) { partition status evaluation { partition description severity "
        "metadataEntries { label ... on MarkdownMetadataEntry { mdStr } } } } }",
    )["assetCheckExecutions"]
    by_edition = {e["partition"]: e for e in data}
    assert set(RANGE) <= set(by_edition), by_edition.keys()  # the range run's too
    for edition in RANGE:
        execution = by_edition[edition]
        assert execution["evaluation"]["partition"] == edition
        said = execution["evaluation"]["description"]
        # "0.12% of revenue rows rejected (9 of 7,513); under the warning threshold 1%"
        assert "of revenue rows rejected (" in said and "threshold" in said, said
        cases = {e["label"]: e.get("mdStr") for e in execution["evaluation"]["metadataEntries"]}
        if "failure_cases" in cases:  # up to 10 rejected rows, each with its reason
            rows = cases["failure_cases"].splitlines()[2:]
            assert 0 < len(rows) <= 10


def test_the_2020_asset_page_shows_2020s_figures_in_chromium(
    webserver: int, generated_run: GeneratedRun, tmp_path: Path
) -> None:
    missing = browser_missing()
    require(missing is None, f"no browser: {missing}")
    from playwright.sync_api import sync_playwright

    villages, towns, revenue, _ = _national(generated_run.warehouse, "2020")
    [(top,)] = read_table(
        generated_run.warehouse,
        "SELECT village_name FROM taobao_villages WHERE edition = 2020 "
        "ORDER BY revenue_rmb DESC, village_code LIMIT 1",
    )
    url = f"http://127.0.0.1:{webserver}/assets/taobao_villages?view=partitions&partition=2020"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.goto(url)
            page.get_by_text("top_villages").first.wait_for(timeout=60_000)
            # the label renders before the table of top villages: wait for its first row
            page.get_by_text(top).first.wait_for(timeout=60_000)
            text = page.inner_text("body")
            page.screenshot(path=str(tmp_path / "taobao_villages-2020.png"), full_page=True)
        finally:
            browser.close()
    assert "dagster/partition_row_count" in text
    assert _says(text, Decimal(revenue)), revenue
    assert "outside_the_east_percent" in text
    assert top in text
