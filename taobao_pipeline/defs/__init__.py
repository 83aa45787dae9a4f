"""The Dagster wing: the code location's assets, checks, resources, partitions, automation.

- ``assets/``: one module per step (``staged_inputs``: ingest_extracts; ``designations``:
  designate_and_publish; ``official_lists_import``; ``report``; ``reference``: the
  published record, declared and not built), ``checks.py`` (the asset checks and the
  quality gate) and ``metadata.py`` (what the UI shows of a table);
- ``resources.py`` (paths, rules, quality thresholds), ``partitions.py`` (editions as
  partitions), ``automation.py`` (schedule, sensors, retries, alerts), ``freshness.py``
  (each edition published by its deadline).

The engine beneath it (ingest, row rules, SQL, staging, warehouse and publish, release,
report) imports no Dagster; ``taobao_pipeline.definitions`` gathers this wing into the code
location, and the command line (``cli``, with ``runner`` and ``progress``, which run
``designation_job`` in process) sits above that. Nothing here imports those two layers
(``test_module_boundaries``).
"""

import warnings

import dagster as dg

# Single-run backfills (every edition in one run) are what make a full rebuild fast;
# the API is marked beta, which we accept knowingly rather than warn on every start.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
# Likewise partitioned asset checks (a check result per edition) are in preview.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
