"""Editions of a step run in threads: every edition's result, under its edition."""

import threading

import pytest

from taobao_pipeline.partitions import for_each_edition


def test_each_edition_once_in_the_callers_order() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def work(edition: int) -> str:
        with lock:
            seen.append(edition)
        return f"done {edition}"

    editions = [2014, 2015, 2016, 2020]
    result = for_each_edition(editions, work, parallel=2)
    assert list(result) == editions
    assert result == {e: f"done {e}" for e in editions}
    assert sorted(seen) == editions  # each once, whatever order the threads took


def test_a_failing_edition_fails_the_step() -> None:
    def work(edition: int) -> int:
        if edition == 2015:
            raise ValueError("edition 2015: bad file")
        return edition

    with pytest.raises(ValueError, match="2015"):
        for_each_edition([2014, 2015, 2016], work, parallel=2)
