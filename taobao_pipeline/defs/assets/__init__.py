"""Dagster assets, one module per step of the graph: staged_inputs (ingest_extracts),
designations (designate_and_publish), official_lists_import (import_official_lists), and
reference (the published record, code not built)."""
