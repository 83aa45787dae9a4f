"""Editions as plain years: a run's ranges of consecutive years, and how they are named."""

from __future__ import annotations


def contiguous(editions: list[int]) -> list[tuple[int, int]]:
    """Sorted editions as runs of consecutive years (the runner starts a run per range)."""
    ranges: list[tuple[int, int]] = []
    for year in sorted(set(editions)):
        if ranges and ranges[-1][1] == year - 1:
            ranges[-1] = (ranges[-1][0], year)
        else:
            ranges.append((year, year))
    return ranges


def editions_label(first: int, last: int) -> str:
    """``2020`` or ``2019-2020``."""
    return str(first) if first == last else f"{first}-{last}"


def describe_editions(editions: list[int]) -> str:
    """``2009-2013, 2016, 2020-2022``."""
    return ", ".join(editions_label(*r) for r in contiguous(editions))
