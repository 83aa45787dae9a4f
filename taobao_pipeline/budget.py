"""The memory budget of a run: one setting that the ingest's batches and DuckDB honour.

Rows are read, judged and staged in batches sized from the budget, and every DuckDB query
of the process (the whole-source rules, the computations, the publish) runs under a
``memory_limit`` derived from it, spilling to a folder beside the staging area when it
would exceed it. The budget is, first found:

- the launchpad's ``memory_budget`` of the ``paths`` resource (``configure``);
- the environment variable ``TAOBAO_MEMORY_BUDGET`` (``2GB``, ``1.5 GiB``, ``800MB``);
- ``min(2 GiB, a quarter of the machine's memory)``.

The process's peak stays near the budget plus the interpreter and Dagster (~0.5 GB).
"""

from __future__ import annotations

import os
import re

ENV = "TAOBAO_MEMORY_BUDGET"
GIB = 1 << 30
DEFAULT_CAP = 2 * GIB
MINIMUM = 256 << 20  # below this DuckDB and polars spend their time spilling
# of the budget: DuckDB's memory_limit (its hash tables and sorts; it spills beyond)
DUCKDB_SHARE = 0.6
# bytes a row costs while a batch is judged: its text, the rules' masks and typed copies,
# the Parquet written. Measured on 2022 at scale 1.0, the peak of phase one over the
# process's ~0.35 GB: ~230 bytes a sales row (Parquet), ~400 a village row and 450-620 a
# shop row (CSV); 1000 leaves room for wider rows (text where Parquet gave numbers)
BYTES_PER_ROW = 1000
MIN_BATCH, MAX_BATCH = 10_000, 2_000_000

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": GIB, "t": 1 << 40}
_configured: int | None = None


class BudgetError(ValueError):
    """A budget that cannot be read as a size."""


def parse_size(text: str) -> int:
    """Bytes of a size such as ``2GB``, ``1.5 GiB``, ``800M`` or ``2147483648`` (binary
    units: a GB is 2^30 bytes, as DuckDB and ``free`` count)."""
    found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not found:
        raise BudgetError(f"not a memory size: {text!r} (say 2GB, 1.5GiB or 800MB)")
    size = int(float(found.group(1)) * _UNITS[found.group(2)])
    if size < MINIMUM:
        raise BudgetError(f"memory budget {text!r} is below the minimum of 256MB")
    return size


def machine_memory() -> int:
    """The machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def default_budget() -> int:
    """``min(2 GiB, a quarter of the machine's memory)``."""
    return max(MINIMUM, min(DEFAULT_CAP, machine_memory() // 4))


def configure(text: str | None) -> None:
    """Set the budget from configuration (the launchpad); empty or None: unset."""
    global _configured
    _configured = parse_size(text) if text and text.strip() else None


def memory_budget() -> int:
    """The budget in bytes: configured, else ``TAOBAO_MEMORY_BUDGET``, else the default."""
    if _configured is not None:
        return _configured
    env = os.environ.get(ENV, "").strip()
    return parse_size(env) if env else default_budget()


def batch_rows(budget: int | None = None) -> int:
    """Rows per batch of the ingest under ``budget`` (default: the one in force)."""
    rows = int((budget or memory_budget()) * (1 - DUCKDB_SHARE)) // BYTES_PER_ROW
    return max(MIN_BATCH, min(MAX_BATCH, rows))


def held_bytes(budget: int | None = None) -> int:
    """Bytes of judged rows the ingest may hold in memory between its two phases: the
    batches' share of ``budget`` (``parts.Parts``)."""
    return int((budget or memory_budget()) * (1 - DUCKDB_SHARE))


def duckdb_limit(budget: int | None = None) -> str:
    """DuckDB's ``memory_limit`` under ``budget``, as DuckDB reads it."""
    return f"{int((budget or memory_budget()) * DUCKDB_SHARE) >> 20}MiB"


def words(size: int) -> str:
    """A size as a person reads it: 2.0 GB, 512 MB."""
    return f"{size / GIB:.1f} GB" if size >= GIB else f"{size >> 20} MB"
