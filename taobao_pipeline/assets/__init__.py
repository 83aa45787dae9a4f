"""Dagster assets, one module per stage of the graph: ingest, validate, compute, publish."""
