"""What the command line reads and says, as functions (moved from integration/): editions
as the user writes them, money in words."""

from __future__ import annotations

from decimal import Decimal

import pytest

from taobao_pipeline.cli import parse_editions
from taobao_pipeline.summary import rmb_words, spill_lines


def test_parse_editions() -> None:
    assert parse_editions("2019,2020") == [2019, 2020]
    assert parse_editions("2014-2016,2020") == [2014, 2015, 2016, 2020]


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("999999999972.72", "RMB 1.00 trillion"),  # 2020's published revenue
        ("700000000000.00", "RMB 700 billion"),
        ("701499999999.99", "RMB 701 billion"),
        ("12345678.90", "RMB 12.3 million"),
        ("9996000.00", "RMB 10.0 million"),
        ("9999.50", "RMB 9,999.50"),
        ("0.00", "RMB 0.00"),
    ],
)
def test_money_in_words(amount: str, words: str) -> None:
    assert rmb_words(Decimal(amount)) == words


def test_the_summary_says_when_a_run_spilled() -> None:
    """A run whose DuckDB spilled says so, where and beyond which budget; one that did not
    says nothing of it."""
    assert spill_lines({}) == []
    gib = 1 << 30
    lines = spill_lines(
        {(2022, "shops"): (300 << 20, 2 * gib), (2022, "revenue"): (2 * gib, 2 * gib)}
    )
    assert all(len(line) <= 100 for line in lines) and lines[1].startswith("  ")
    said = " ".join(line.strip() for line in lines)
    assert said == (
        "Spilled to disk beyond the memory budget (2.0 GB): 2022 shops 300 MB, 2022 revenue "
        "2.0 GB. Slower, not wrong; a larger budget (TAOBAO_MEMORY_BUDGET) keeps it in memory."
    ), said
