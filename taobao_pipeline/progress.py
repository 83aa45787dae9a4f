"""Progress of a run for the person who started it: a line per finished step, by stage and
editions, and on a terminal a live line with the step at work and the time elapsed."""

from __future__ import annotations

import threading
import time
from typing import TextIO

import dagster as dg

TICK = 0.5  # seconds between redraws of the live line
OUTCOMES = {  # how a step ends
    dg.DagsterEventType.STEP_SUCCESS: "done",
    dg.DagsterEventType.STEP_FAILURE: "FAILED",
    dg.DagsterEventType.STEP_SKIPPED: "skipped",  # after a failure upstream
}


def clock(seconds: float) -> str:
    """Elapsed time as m:ss (h:mm:ss from an hour)."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def editions_label(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def step_labels(job: dg.JobDefinition) -> dict[str, tuple[str, str]]:
    """Each step of ``job`` as (stage, what it makes): its asset's group and name (the
    step's name when it makes several tables), or ("check", "asset: check")."""
    labels = {}
    for assets_def in job.asset_layer.asset_graph.assets_defs:
        step, keys = assets_def.node_def.name, list(assets_def.keys)
        if keys:
            name = keys[0].to_user_string() if len(keys) == 1 else step
            labels[step] = (assets_def.get_asset_spec(keys[0]).group_name, name)
        else:
            check = next(iter(assets_def.check_keys))
            labels[step] = ("check", f"{check.asset_key.to_user_string()}: {check.name}")
    return labels


class Progress:
    """A ``runner.Listener`` that writes progress to ``stream``.

    ``live`` (a terminal): the step at work and the elapsed time stay on the last line,
    redrawn every half second, above it the finished steps. Otherwise (logs, cron) only a
    line per finished step, so the log reads the same whatever the terminal.
    """

    def __init__(
        self, job: dg.JobDefinition, stream: TextIO, live: bool, started: float | None = None
    ) -> None:
        self.labels = step_labels(job)
        self.stream = stream
        self.live = live
        self.started = time.monotonic() if started is None else started
        self.step_started: dict[str, float] = {}
        self.checks: dict[str, list[str]] = {}  # step -> severities of checks not passed
        self.done = 0
        self.editions = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True) if live else None
        if self._ticker is not None:
            self._ticker.start()

    def __call__(self, editions: tuple[int, int], entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        kind = event.event_type
        with self._lock:
            self.editions = editions_label(*editions)
            if kind == dg.DagsterEventType.RUN_START:
                self.done = 0
            elif kind == dg.DagsterEventType.STEP_START:
                self.step_started[event.step_key] = time.monotonic()
                self._draw()
            elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                if not evaluation.passed:
                    self.checks.setdefault(event.step_key, []).append(
                        evaluation.severity.value.lower()
                    )
            elif kind in OUTCOMES:
                self.done += 1
                self._finished(event.step_key, OUTCOMES[kind])
                self._draw()
            elif kind == dg.DagsterEventType.RUN_FAILURE:
                # the runner then runs each edition of a failed range on its own
                again = "; each edition again, in a run of its own" if "-" in self.editions else ""
                self._write(
                    f"{clock(self.elapsed):>7}  editions {self.editions}: the run failed{again}"
                )

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def close(self) -> None:
        """Stop redrawing and clear the live line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def _finished(self, step: str, outcome: str) -> None:
        stage, name = self.labels.get(step, ("step", step))
        seconds = time.monotonic() - self.step_started.pop(step, time.monotonic())
        notes = self.checks.pop(step, [])
        severity = "error" if "error" in notes else "warn"  # of checks that did not pass
        if stage == "check" and outcome == "done":
            outcome = severity if notes else "passed"
        elif notes and outcome == "done":  # checks judged within the step
            outcome = f"done, check {severity}"
        self._write(
            f"{clock(self.elapsed):>7}  {stage:<8} {name:<46} {self.editions:<9} "
            f"{seconds:6.1f} s  {outcome}"
        )

    def _write(self, line: str) -> None:
        self.stream.write(("\r\x1b[K" if self.live else "") + line + "\n")
        self.stream.flush()

    def _draw(self) -> None:
        if not self.live:
            return
        if self.step_started:
            step = next(iter(self.step_started))
            stage, name = self.labels.get(step, ("step", step))
            doing = f"{stage} {name}, editions {self.editions}"
        else:
            doing = f"editions {self.editions}" if self.editions else "starting Dagster"
        total = len(self.labels)
        line = f"{clock(self.elapsed):>7}  running {doing}  [{self.done}/{total} steps]"
        self.stream.write("\r\x1b[K" + line[:99])
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                self._draw()
