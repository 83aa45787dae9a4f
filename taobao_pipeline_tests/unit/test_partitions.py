"""Editions of a step run in threads: every edition's result, under its edition."""

import threading
import time

import pytest

from taobao_pipeline.defs.partitions import for_each_edition


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


def test_sized_editions_share_the_cores_only_within_the_largest() -> None:
    sizes = {2014: 3, 2015: 3, 2016: 4, 2021: 10, 2022: 10}
    lock = threading.Lock()
    at_work: set[int] = set()
    together: list[set[int]] = []
    starts: list[int] = []

    def work(edition: int) -> int:
        with lock:
            starts.append(edition)
            at_work.add(edition)
            together.append(set(at_work))
        time.sleep(0.2)
        with lock:
            at_work.discard(edition)
        return edition

    result = for_each_edition(list(sizes), work, parallel=2, size=sizes.__getitem__)
    assert result == {e: e for e in sizes}
    assert max(sum(sizes[e] for e in group) for group in together) <= 10
    assert {2021, 2022} not in together  # the two largest never at once
    assert any(len(group) == 2 for group in together)  # the small ones did pair up
    # started latest first, none overtaken: 2021 did not wait behind the small ones
    assert starts == [2022, 2021, 2016, 2015, 2014]
