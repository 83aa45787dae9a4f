"""The Dagster code location: the ``defs/`` wing gathered, every asset, check, resource,
job, schedule and sensor (``dg check defs`` and the webserver load it)."""

import dagster as dg

from taobao_pipeline.defs.assets import designations, official_lists_import, report, staged_inputs
from taobao_pipeline.defs.assets.reference import published_record
from taobao_pipeline.defs.automation import (
    annual_schedule,
    dead_run_sensor,
    failure_alert_sensor,
    raw_folder_sensor,
    retry_sensor,
)
from taobao_pipeline.defs.resources import PathsResource, QualityResource, RulesResource

# each warehouse table is an asset named after it (the staged inputs, the designations and
# their reconciliations, the published lists); the published record is code, not built
all_assets = [
    *dg.load_assets_from_modules([staged_inputs, designations, official_lists_import, report]),
    published_record,
]
# the other checks are declared with the step that builds their asset (defs/checks.py)
all_checks = dg.load_asset_checks_from_modules([official_lists_import, designations])

designation_job = dg.define_asset_job(
    "designation_job",
    selection=dg.AssetSelection.all(),
    description="Every asset of an edition, from the raw extracts to the published warehouse.",
    # in this process wherever it is launched (UI, schedule, sensor, backfill), as from the
    # command line: the steps share cores by threads already, and a process per step cost
    # 58.5 CPU s against 31.6 for edition 2022 at scale 1.0
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    schedules=[annual_schedule(designation_job)],
    sensors=[
        raw_folder_sensor(designation_job),
        retry_sensor(designation_job),
        failure_alert_sensor(),
        dead_run_sensor(),
    ],
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[designation_job],
    resources={
        "paths": PathsResource.from_env(),
        "rules": RulesResource(),
        "quality": QualityResource(),
    },
)
