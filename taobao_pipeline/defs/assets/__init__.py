"""Dagster assets, one module per step of the graph: staged_inputs (ingest_extracts),
designations (designate_and_publish), official_lists_import (import_official_lists), and
reference (the published record, code not built)."""

import warnings

import dagster as dg

# Single-run backfills (every edition in one run) are what make a full rebuild fast;
# the API is marked beta, which we accept knowingly rather than warn on every start.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
# Likewise partitioned asset checks (a check result per edition) are in preview.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
