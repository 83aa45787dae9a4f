"""The Dagster code location: the ``defs/`` wing gathered, every asset, check, resource,
job, schedule and sensor (``dg check defs`` and the webserver load it).

``dg.load_from_defs_folder`` gathers what the modules of ``defs/`` declare at module level
(the dg layout: the steps' assets, their checks, the deadline sensor); this module adds
what binds them together: the job, the schedule and sensors built on it, the executor, the
logger and the resources. A module of ``defs/`` keeps its lists of specs as tuples: the
loader would take a module-level list of ``AssetSpec`` for assets of their own."""

import os
from pathlib import Path

import dagster as dg

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


def wing() -> dg.Definitions:
    """What the modules of ``defs/`` declare, found by ``dg.load_from_defs_folder`` (the
    project's ``[tool.dg]`` in pyproject.toml names the folder), with its component tree
    for ``dg`` and the UI, each asset linked to its code. Each warehouse table is an asset
    named after it (the staged inputs, the designations and their reconciliations, the
    published lists); the published record is code, not built; the checks are declared
    with the step that judges them (``defs/checks.py``)."""
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    assets = list({id(a): a for a in loaded.assets or []}.values())  # a spec may come twice
    return dg.Definitions(
        assets=code_references(assets),
        asset_checks=loaded.asset_checks,
        schedules=loaded.schedules,
        sensors=loaded.sensors,  # edition_deadline (defs/freshness.py)
        jobs=loaded.jobs,
        metadata=loaded.metadata,
        component_tree=loaded.component_tree,
    )


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

# the code location (one Definitions at module level): the wing and what binds it
defs = dg.Definitions.merge(
    wing(),
    dg.Definitions(
        schedules=[annual_schedule(designation_job)],
        sensors=[
            raw_folder_sensor(designation_job),
            retry_sensor(designation_job),
            failure_alert_sensor(),
            dead_run_sensor(),
        ],
        jobs=[designation_job],
        # "Materialize" on the asset graph (the implicit asset job) runs in one process too
        executor=ONE_PROCESS,
        loggers={"console": console_logger},
        resources={
            "paths": PathsResource.from_env(),
            "rules": RulesResource(),
            "quality": QualityResource(),
        },
    ),
)
# the wing's assets and checks, for a materialization apart (tests, benchmarks)
all_assets = list(defs.assets or [])
all_checks = list(defs.asset_checks or [])
