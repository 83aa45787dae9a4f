"""Failures as a person reads them: one short paragraph each, no stack trace.

A paragraph says where it failed (edition, step), the problem (the error's own message,
cut to an excerpt: an error never echoes a file's content) and what to do. Errors reach
here across Dagster as class names and messages, so the advice is keyed by class name.
"""

from __future__ import annotations

import re
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
    "NotStaged": "Run the edition as a whole (taobao-pipeline run --editions {years}).",
    "DagsterAssetCheckFailedError": (
        "A blocking check failed, so the edition was not published (the warehouse still "
        "holds what it held): its result in the UI, or this run with --verbose, shows why."
    ),
    "QualityGateFailed": (
        "The warehouse keeps what it held for the edition. Fix the files and run again, or "
        "publish anyway with your reason: taobao-pipeline run --editions {years} "
        '--publish-anyway "REASON" (recorded in edition_provenance).'
    ),
    "MemoryError": (
        "The run ran out of memory: run fewer editions at once, or give it more memory. "
        "The warehouse still holds what it held."
    ),
    # these say what to do themselves
    "StaleStaging": "",
    "WarehouseBusy": "",
}
# the same advice for a run launched from the UI, by the schedule or a sensor (the alert):
# no command-line flag to a person who works in the UI
ADVICE_LAUNCHED = ADVICE | {
    "NotStaged": "Materialize the edition's whole designation_job (every asset of it).",
    "DagsterAssetCheckFailedError": (
        "A blocking check failed, so the edition was not published (the warehouse still "
        "holds what it held): the check's result on the run's page in the UI shows why."
    ),
    "QualityGateFailed": (
        "The warehouse keeps what it held for the edition. Fix the files and run again, or "
        "publish anyway with your reason: launch designation_job for the edition with the "
        "quality resource's publish_anyway set to it in the launchpad (recorded in "
        "edition_provenance)."
    ),
}
# failures that running again unchanged would repeat: the data or the code must change
# first, so nothing retries them (retry_failed_editions, nor the instance's run_retries)
PREDICTABLE = frozenset(
    {
        "ExtractError",
        "OfficialListError",
        "SumOutOfRange",
        "OutsideEditions",
        "NotStaged",
        "DagsterAssetCheckFailedError",
        "QualityGateFailed",
        "StaleStaging",
        "BlockingChecksFailed",
    }
)
DISK_FULL = (
    "The disk is full: free space where the warehouse and its staging are, then run "
    "again. Nothing was left behind, and the warehouse still holds what it held."
)
UNKNOWN = (
    "This does not point at an input file: run again with --verbose and report the output "
    "if it may be a fault of the pipeline."
)
UNKNOWN_LAUNCHED = (
    "This does not point at an input file: the run's page in the Dagster UI (Runs) shows "
    "the stack trace; report it if it may be a fault of the pipeline."
)


def excerpt(text: str) -> str:
    """``text`` on one line, at most ``EXCERPT`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT] + " [...]"


@dataclass(frozen=True)
class Failure:
    """One failure: where (e.g. ``edition 2020, shops``), the error's class and message;
    ``launched``: the run was launched through the instance (the UI, the schedule, a
    sensor), so the advice speaks of the UI, not of the command's flags."""

    where: str
    kind: str
    message: str
    launched: bool = False

    @property
    def disk_full(self) -> bool:
        return "No space left on device" in self.message or "disk is full" in self.message

    @property
    def predictable(self) -> bool:
        """Whether running again unchanged would fail the same way (the data or the code
        must change first): such a failure is never retried."""
        return not self.disk_full and (self.kind in PREDICTABLE or _blocking(self))

    @property
    def advice(self) -> str:
        """What to do, for where the run was launched (said once, after the problem)."""
        if self.disk_full:
            return DISK_FULL
        kind = "DagsterAssetCheckFailedError" if _blocking(self) else self.kind
        table = ADVICE_LAUNCHED if self.launched else ADVICE
        text = table.get(kind, UNKNOWN_LAUNCHED if self.launched else UNKNOWN)
        return text.replace("{years}", _years(f"{self.where} {self.message}"))

    @property
    def problem(self) -> str:
        """Where and what, on one line, without the advice."""
        # a message that names its edition says where already
        named = self.message.startswith(("edition ", "editions "))
        where = f"{self.where}: " if self.where and not named else ""
        return f"{where}{excerpt(self.message)}"

    def __str__(self) -> str:
        advice = self.advice
        return f"error: {self.problem}" + (f"\n  {advice}" if advice else "")


def _blocking(failure: Failure) -> bool:
    """Raised because blocking checks failed (designate_and_publish's BlockingChecksFailed,
    or Dagster's own error for a blocking check)."""
    return failure.kind in ("BlockingChecksFailed", "DagsterAssetCheckFailedError")


def _years(text: str) -> str:
    """The editions a text names (``edition 2020``, ``editions 2019-2020``, ``[2019,
    2020]``), as ``--editions`` takes them; ``YEAR`` when it names none."""
    found = re.search(r"editions? \[?([0-9][0-9, -]*[0-9])", text)
    return found.group(1).replace(" ", "") if found else "YEAR"


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


def failures_of(events: list, tags: Mapping[str, str], launched: bool = False) -> list[Failure]:
    """Each step failure of a run as a ``Failure``: the error itself, not Dagster's
    wrapping of it (one for the run if no step failed); ``launched``: see ``Failure``."""
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
        where = f"{run_editions_label(tags)}, {event.step_key}"
        failures.append(Failure(where, kind, text, launched))
    return failures or [Failure(run_editions_label(tags), "unknown", "the run failed", launched)]
