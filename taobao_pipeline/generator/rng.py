"""Deterministic random streams: vectorised draws (pyarrow) and a Python ``random.Random``.

Every draw comes from a named stream derived from the run's seed, so adding a draw in one
place never shifts the numbers drawn elsewhere, and a seed always reproduces the same files.
"""

from __future__ import annotations

import hashlib
import math
import random

import polars as pl
import pyarrow.compute as pc


def derive(seed: int, *names: object) -> int:
    """A 63-bit seed derived from ``seed`` and a stream name (stable across runs/platforms)."""
    text = "/".join([str(seed), *map(str, names)]).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") >> 1


class Stream:
    """A named stream of uniform draws; each call continues the stream deterministically."""

    def __init__(self, seed: int, *names: object) -> None:
        self._seed = derive(seed, *names)
        self._calls = 0

    def _next_seed(self) -> int:
        self._calls += 1
        return derive(self._seed, self._calls)

    def uniform(self, n: int, name: str = "u") -> pl.Series:
        """``n`` uniform draws in [0, 1) as a Float64 series."""
        if n == 0:
            return pl.Series(name, [], dtype=pl.Float64)
        return pl.Series(name, pc.random(n, initializer=self._next_seed()))

    def normal(self, n: int, name: str = "z") -> pl.Series:
        """``n`` standard normal draws (Box-Muller)."""
        u1 = self.uniform(n)
        u2 = self.uniform(n)
        z = (-2.0 * (1.0 - u1).log()).sqrt() * (2.0 * math.pi * u2).cos()
        return z.alias(name)

    def python(self) -> random.Random:
        """A ``random.Random`` seeded from this stream (for small planning loops)."""
        return random.Random(self._next_seed())
