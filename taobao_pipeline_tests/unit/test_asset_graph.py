"""The asset graph is the data flow: each table an asset named after it, upstream exactly
the tables it is computed from."""

from __future__ import annotations

from taobao_pipeline.definitions import defs
from taobao_pipeline.tables import INPUT_TABLES, PUBLISHED_TABLES

UPSTREAM = {
    # the staged inputs: shops are checked against the accepted villages, sales against
    # the accepted shops; the rejected rows and the audit come from the same reading
    "villages": set(),
    "shops": {"villages"},
    "shop_sales": {"shops"},
    "rejected_rows": set(),
    "load_audit": set(),
    # the designations
    "village_metrics": {"villages", "shops", "shop_sales"},
    "taobao_villages": {"village_metrics"},
    "taobao_towns": {"village_metrics"},
    "county_summary": {"village_metrics", "taobao_towns"},
    "taobao_clusters": {"county_summary"},
    "province_summary": {"village_metrics", "taobao_towns", "provinces"},
    "national_summary": {"village_metrics", "taobao_towns", "taobao_clusters", "provinces"},
    "provinces": set(),
    "reconciliation": {
        "national_summary",
        "province_summary",
        "county_summary",
        "provinces",
        "published_record",
    },
    # what each edition was computed from: the files as the staged inputs read them
    "edition_provenance": {"villages", "shops", "shop_sales"},
    # the published lists
    "official_villages": set(),
    "official_towns": set(),
    "official_reconciliation": {"official_villages", "taobao_villages", "provinces"},
    # code, not a table
    "published_record": set(),
    # a file, not a table: the HTML report drawn from the published tables
    "report": {
        "national_summary",
        "province_summary",
        "county_summary",
        "taobao_villages",
        "reconciliation",
        "load_audit",
        "rejected_rows",
        "official_reconciliation",
        "provinces",
    },
}
#: assets that are not a table of their name
NOT_TABLES = {"published_record", "report"}


def test_every_table_is_an_asset_with_exactly_its_inputs_upstream() -> None:
    graph = defs.resolve_asset_graph()
    found = {
        key.to_user_string(): {p.to_user_string() for p in graph.get(key).parent_keys}
        for key in graph.get_all_asset_keys()
    }
    assert found == UPSTREAM
    tables = set(PUBLISHED_TABLES) | set(INPUT_TABLES)
    assert tables <= set(found)
    assert set(found) - tables == NOT_TABLES
    # every asset the job materializes holds the table of its name (and the report, a file)
    executable = {k.to_user_string() for k in graph.executable_asset_keys}
    assert executable <= tables | {"report"}
    assert set(found) - executable == {"published_record"}


def test_the_staged_inputs_and_their_audit_come_from_one_step() -> None:
    graph = defs.resolve_asset_graph()
    steps: dict[str, set[str]] = {}
    for key in graph.executable_asset_keys:
        node = graph.get(key)
        steps.setdefault(node.assets_def.node_def.name, set()).add(key.to_user_string())
    assert steps["ingest_extracts"] == {
        "villages",
        "shops",
        "shop_sales",
        "rejected_rows",
        "load_audit",
    }
    assert steps["designate_and_publish"] >= {
        "village_metrics",
        "reconciliation",
        "edition_provenance",
    }
