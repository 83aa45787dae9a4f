"""The Dagster code location: the ``defs/`` wing gathered, every asset, check, resource,
job, schedule and sensor (``dg check defs`` and the webserver load it)."""

import os
from pathlib import Path

import dagster as dg

from taobao_pipeline.defs import freshness
from taobao_pipeline.defs.assets import designations, official_lists_import, report, staged_inputs
from taobao_pipeline.defs.assets.reference import published_record
from taobao_pipeline.defs.automation import (
    LOG_CONFIG,
    annual_schedule,
    console_logger,
    dead_run_sensor,
    failure_alert_sensor,
    raw_folder_sensor,
    retry_sensor,
)
from taobao_pipeline.defs.resources import PathsResource, QualityResource, RulesResource


def code_references(assets: list) -> list:
    """Each asset linked to its code: the file and line on this machine, or, where
    ``TAOBAO_GIT_URL`` names the project's repository (``TAOBAO_GIT_BRANCH``, default
    ``main``), the same line there."""
    assets = list(dg.with_source_code_references(assets))
    url = os.environ.get("TAOBAO_GIT_URL")
    if not url:
        return assets
    here = Path(__file__)
    mapping = dg.AnchorBasedFilePathMapping(
        local_file_anchor=here, file_anchor_path_in_repository=f"{here.parent.name}/{here.name}"
    )
    branch = os.environ.get("TAOBAO_GIT_BRANCH", "main")
    return list(dg.link_code_references_to_git(assets, url, branch, mapping))


# each warehouse table is an asset named after it (the staged inputs, the designations and
# their reconciliations, the published lists); the published record is code, not built
all_assets = code_references(
    [
        *dg.load_assets_from_modules([staged_inputs, designations, official_lists_import, report]),
        published_record,
    ]
)
# the other checks are declared with the step that judges them (defs/checks.py)
all_checks = dg.load_asset_checks_from_modules([official_lists_import, designations, freshness])

# in one process wherever it is launched (UI, schedule, sensor, backfill), as from the
# command line: the steps share cores by threads already, and a process per step cost 58.5
# CPU s against 31.6 for edition 2022 at scale 1.0
ONE_PROCESS = dg.in_process_executor

designation_job = dg.define_asset_job(
    "designation_job",
    selection=dg.AssetSelection.all(),
    description="Every asset of an edition, from the raw extracts to the published warehouse.",
    executor_def=ONE_PROCESS,
    # Dagster's log at INFO, a data failure without its stack trace (launched from the UI
    # too; the command line and the schedule give their own config)
    config=LOG_CONFIG,
)

defs = dg.Definitions(
    schedules=[annual_schedule(designation_job)],
    sensors=[
        raw_folder_sensor(designation_job),
        retry_sensor(designation_job),
        failure_alert_sensor(),
        dead_run_sensor(),
        freshness.edition_deadline,
    ],
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[designation_job],
    # "Materialize" on the asset graph (the implicit asset job) runs in one process too
    executor=ONE_PROCESS,
    loggers={"console": console_logger},
    resources={
        "paths": PathsResource.from_env(),
        "rules": RulesResource(),
        "quality": QualityResource(),
    },
)
