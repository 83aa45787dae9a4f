"""The Dagster code location: every asset, resource, job, schedule and sensor."""

import dagster as dg

from taobao_pipeline.assets import checks, compute, ingest, official, publish, report, validate
from taobao_pipeline.assets.checks import QualityResource
from taobao_pipeline.automation import annual_schedule, raw_folder_sensor
from taobao_pipeline.resources import RulesResource, WarehouseResource

all_assets = dg.load_assets_from_modules([ingest, validate, compute, publish, official, report])
all_checks = dg.load_asset_checks_from_modules([checks, official])

designation_job = dg.define_asset_job(
    "designation_job",
    selection=dg.AssetSelection.all(),
    description="Every asset of an edition, from the raw extracts to the published warehouse.",
)

defs = dg.Definitions(
    schedules=[annual_schedule(designation_job)],
    sensors=[raw_folder_sensor(designation_job)],
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[designation_job],
    resources={
        "warehouse": WarehouseResource.from_env(),
        "rules": RulesResource(),
        "quality": QualityResource(),
    },
)
