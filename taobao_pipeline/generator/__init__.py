"""Synthetic national raw extracts whose designations reproduce the published record.

``generate(out_dir, editions, scale, seed)`` writes ``out_dir/<edition>/villages.*``,
``shops.*`` and ``revenue*.*`` as the data contract allows, calibrated to the published
record (``taobao_pipeline.published_record``, a module of the product that the generator
reads; nothing in the pipeline imports the generator but the ``generate`` command).

Modules: :mod:`.priors` (stand-ins for unpublished figures, planning priors),
:mod:`.targets` (per-edition targets at a scale),
:mod:`.divisions` (real province/prefecture/county codes),
:mod:`.geography` (the register), :mod:`.plan` (designations, near misses, sales per unit),
:mod:`.shops` and :mod:`.sales` (vectorised shops and monthly rows), :mod:`.defects`
(rows the contract rejects), :mod:`.writer` (formats and streaming writers),
:mod:`.core` (``generate``).
"""

from typing import Any

_CORE = {"EditionSummary", "GenerationSummary", "generate"}


def __getattr__(name: str) -> Any:
    if name in _CORE:
        from . import core

        return getattr(core, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EditionSummary",
    "GenerationSummary",
    "generate",
]
