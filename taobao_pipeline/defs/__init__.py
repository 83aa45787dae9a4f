"""The Dagster wing: everything of the pipeline that speaks Dagster, and nothing else does.

- ``assets/``: one module per step (``staged_inputs``: ingest_extracts; ``designations``:
  designate_and_publish; ``official_lists_import``; ``report``; ``reference``: the
  published record, declared and not built), ``checks.py`` (the asset checks and the
  quality gate) and ``metadata.py`` (what the UI shows of a table);
- ``resources.py`` (paths, rules, quality thresholds), ``partitions.py`` (editions as
  partitions), ``automation.py`` (schedule, sensors, retries, alerts);
- ``runner.py`` and ``progress.py``: ``designation_job`` run from the command line.

The engine beside it (ingest, row rules, SQL, staging, warehouse and publish, release,
report) imports no Dagster (``test_module_boundaries``); ``taobao_pipeline.definitions``
gathers this wing into the code location.
"""

import warnings

import dagster as dg

# Single-run backfills (every edition in one run) are what make a full rebuild fast;
# the API is marked beta, which we accept knowingly rather than warn on every start.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
# Likewise partitioned asset checks (a check result per edition) are in preview.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
