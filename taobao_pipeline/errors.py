"""Failures as a person reads them: one short paragraph each, no stack trace.

A paragraph says where it failed (edition, step), the problem (the error's own message,
cut to an excerpt: an error never echoes a file's content) and what to do. Errors reach
here across Dagster as class names and messages, so the advice is keyed by class name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

EXCERPT = 400  # characters of a message at most

ADVICE = {
    "ExtractError": (
        "Fix or replace that file (or move it out of the edition folder), then run the "
        "edition again. The warehouse still holds what it held for this edition."
    ),
    "OfficialListError": (
        "Fix the published list under official/ (or move it out), then run the edition again."
    ),
    "SumOutOfRange": (
        "Check those amounts in the revenue files (a unit or a misplaced decimal point), "
        "then run the edition again. The warehouse still holds what it held for this edition."
    ),
    "OutsideEditions": "Run editions within that range; the other editions were run.",
    "NotStaged": "Run the edition as a whole (taobao-pipeline run --editions YEAR).",
    "DagsterAssetCheckFailedError": (
        "A blocking check failed, so the edition was not published (the warehouse still "
        "holds what it held): its result in the UI, or this run with --verbose, shows why."
    ),
    "QualityGateFailed": (
        "The warehouse keeps what it held for the edition. Fix the files and run again, or "
        "publish anyway with your reason (in the UI: the quality resource's publish_anyway); "
        "the reason is recorded in edition_provenance."
    ),
    # these say what to do themselves
    "StaleStaging": "",
    "WarehouseBusy": "",
}
DISK_FULL = (
    "The disk is full: free space where the warehouse and its staging are, then run "
    "again. Nothing was left behind, and the warehouse still holds what it held."
)
UNKNOWN = (
    "This does not point at an input file: run again with --verbose and report the output "
    "if it may be a fault of the pipeline."
)


def excerpt(text: str) -> str:
    """``text`` on one line, at most ``EXCERPT`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT] + " [...]"


@dataclass(frozen=True)
class Failure:
    """One failure: where (e.g. ``edition 2020, shops``), the error's class and message."""

    where: str
    kind: str
    message: str

    def __str__(self) -> str:
        # a message that names its edition says where already
        named = self.message.startswith("edition ")
        where = f"{self.where}: " if self.where and not named else ""
        full = "No space left on device" in self.message or "disk is full" in self.message
        advice = DISK_FULL if full else ADVICE.get(self.kind, UNKNOWN)
        text = excerpt(self.message)
        return f"error: {where}{text}" + (f"\n  {advice}" if advice else "")


def describe(error: BaseException) -> str:
    """The paragraph for an error raised outside a run (say, by the command line)."""
    return str(Failure("", type(error).__name__, str(error) or type(error).__name__))


# a run's editions, as Dagster tags it (a single-run backfill of a range, or a partition)
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def run_editions_label(tags: Mapping[str, str]) -> str:
    """The editions of a run, from its tags: ``edition 2020`` or ``editions 2014-2020``."""
    if RANGE_START in tags:
        return f"editions {tags[RANGE_START]}-{tags[RANGE_END]}"
    return f"edition {tags.get('dagster/partition', '?')}"


def failures_of(events: list, tags: Mapping[str, str]) -> list[Failure]:
    """Each step failure of a run as a ``Failure``: the error itself, not Dagster's
    wrapping of it (one for the run if no step failed)."""
    failures = []
    for event in events:
        error = event.step_failure_data.error
        while error is not None and error.cause is not None and "dagster" in error.cls_name.lower():
            error = error.cause
        kind = error.cls_name if error else "unknown"
        text = error.message.strip() if error else "unknown error"
        # "package.module.Class: text" -> "text"
        head, sep, rest = text.partition(": ")
        if sep and head.rsplit(".", 1)[-1] == kind:
            text = rest
        failures.append(Failure(f"{run_editions_label(tags)}, {event.step_key}", kind, text))
    return failures or [Failure(run_editions_label(tags), "unknown", "the run failed")]
