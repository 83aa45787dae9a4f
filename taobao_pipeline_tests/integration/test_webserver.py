"""The real Dagster webserver on loopback: graph, checks and metadata over GraphQL."""

from __future__ import annotations

import dagster as dg
import pytest

from taobao_pipeline.runner import run_editions
from taobao_pipeline_tests.raw_files import write_edition
from taobao_pipeline_tests.scenarios import TAOBAO_VILLAGES, boundary_edition
from taobao_pipeline_tests.services import graphql
from taobao_pipeline_tests.services import webserver as serve


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ui")
    e = boundary_edition(2020)
    write_edition(root / "raw", 2020, e.villages, e.shops, e.revenue)
    home = root / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = dg.DagsterInstance.from_config(str(home))
    run_editions(root / "raw", root / "w.duckdb", [2020], instance=instance)
    with serve(home, root / "raw", root / "w.duckdb") as port:
        yield port


def test_graph_reads_left_to_right_with_descriptions(webserver: int) -> None:
    nodes = graphql(
        webserver,
        "{ assetNodes { assetKey { path } groupName description dependencyKeys { path } } }",
    )["assetNodes"]
    groups = {n["assetKey"]["path"][0]: n["groupName"] for n in nodes}
    assert groups["villages"] == "staged_inputs" and groups["load_audit"] == "staged_inputs"
    assert groups["village_metrics"] == "designations" and "warehouse" not in groups
    assert groups["official_villages"] == "official_lists"
    assert all(n["description"] for n in nodes)
    deps = {n["assetKey"]["path"][0]: {d["path"][0] for d in n["dependencyKeys"]} for n in nodes}
    # the UI's lineage: what each table is computed from
    assert deps["village_metrics"] == {"villages", "shops", "shop_sales"}
    assert deps["reconciliation"] >= {"national_summary", "published_record"}


def test_checks_and_their_latest_results(webserver: int) -> None:
    data = graphql(
        webserver,
        '{ assetCheckExecutions(assetKey: {path: ["taobao_villages"]}, '
        'checkName: "designations_follow_criteria", limit: 1) '
        "{ status evaluation { severity metadataEntries { label } } } }",
    )
    [execution] = data["assetCheckExecutions"]
    assert execution["status"] == "SUCCEEDED"
    assert execution["evaluation"]["severity"] == "ERROR"  # what a failure would be
    labels = {e["label"] for e in execution["evaluation"]["metadataEntries"]}
    assert "mismatches" in labels


def test_latest_materialization_metadata(webserver: int) -> None:
    data = graphql(
        webserver,
        '{ assetOrError(assetKey: {path: ["national_summary"]}) { ... on Asset { '
        "assetMaterializations(limit: 1) { partition metadataEntries { label "
        "... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue } } } } } }",
    )
    [latest] = data["assetOrError"]["assetMaterializations"]
    values = {e["label"]: e.get("intValue", e.get("floatValue")) for e in latest["metadataEntries"]}
    assert latest["partition"] == "2020"
    assert values["taobao_villages"] == len(TAOBAO_VILLAGES)
    assert values["taobao_towns"] == 3
    assert values["dagster/partition_row_count"] == 1  # the edition's one national row
    schema = graphql(
        webserver,
        '{ assetNodes(assetKeys: [{path: ["village_metrics"]}]) { metadataEntries { label } } }',
    )["assetNodes"][0]["metadataEntries"]
    assert "dagster/column_schema" in {e["label"] for e in schema}
