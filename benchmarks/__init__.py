"""Benchmarks of the pipeline against a hand-written DuckDB floor and a pandas script.

``python -m benchmarks.run --help``; results go to ``docs/benchmarks.md``.
"""


def parse_editions(text: str) -> list[int]:
    """``2009-2022`` or ``2019,2020`` (or a mix: ``2009,2013-2016``) as sorted years."""
    years: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        years.update(range(int(first), int(last or first) + 1))
    return sorted(years)
