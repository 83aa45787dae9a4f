"""Synthetic national raw extracts whose designations reproduce the published record.

``generate(out_dir, editions, scale, seed)`` writes ``out_dir/<edition>/villages.*``,
``shops.*`` and ``revenue*.*`` as the data contract allows; ``PUBLISHED`` is the reference
table of the published figures (with sources) that the data is calibrated to.

Modules: :mod:`.published` (the record and planning priors), :mod:`.targets` (per-edition
targets at a scale), :mod:`.divisions` (real province/prefecture/county codes),
:mod:`.geography` (the register), :mod:`.plan` (designations, near misses, sales per unit),
:mod:`.shops` and :mod:`.sales` (vectorised shops and monthly rows), :mod:`.defects`
(rows the contract rejects), :mod:`.writer` (formats and streaming writers),
:mod:`.core` (``generate``).
"""

from typing import Any

from .published import FIGURES, PUBLISHED, PublishedFigure, published_table

_CORE = {"EditionSummary", "GenerationSummary", "generate"}


def __getattr__(name: str) -> Any:
    # the generator loads on first use: the pipeline reads only the record (published)
    if name in _CORE:
        from . import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FIGURES",
    "PUBLISHED",
    "EditionSummary",
    "GenerationSummary",
    "PublishedFigure",
    "generate",
    "published_table",
]
