"""The HTML report of the warehouse: ``build.build_report`` writes it to ``report_path``.

``build`` loads Altair and vl-convert; this package module does not, so that naming the
report costs a command nothing.
"""

from pathlib import Path


def report_path(warehouse: Path | str) -> Path:
    """Where the pipeline writes the report of ``warehouse``: ``report.html`` beside it."""
    return Path(warehouse).parent / "report.html"
