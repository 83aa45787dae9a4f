"""Progress of a run for the person who started it: a line per table made, check judged and
step finished, by stage and editions; on a terminal also a live line with the step at work
and the time elapsed."""

from __future__ import annotations

import threading
import time
from typing import TextIO

import dagster as dg

from taobao_pipeline.editions import editions_label
from taobao_pipeline.interrupts import signalled
from taobao_pipeline.summary import clock

TICK = 0.5  # seconds between redraws of the live line
ENDS = {  # how a step ends
    dg.DagsterEventType.STEP_SUCCESS: "done",
    dg.DagsterEventType.STEP_FAILURE: "FAILED",
    dg.DagsterEventType.STEP_SKIPPED: "skipped",  # after a failure upstream
}
STEP_TIMED = (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE)


def step_stages(job: dg.JobDefinition) -> dict[str, str]:
    """Each step of ``job`` with its stage: the group of the assets it makes, or "check"."""
    stages = {}
    for assets_def in job.asset_layer.asset_graph.assets_defs:
        if not assets_def.is_executable:  # declared, not built (the published record)
            continue
        keys = list(assets_def.keys)
        group = assets_def.get_asset_spec(keys[0]).group_name if keys else "check"
        stages[assets_def.node_def.name] = group
    return stages


def asset_stages(job: dg.JobDefinition) -> dict[str, str]:
    """Each asset ``job`` makes, with its group."""
    return {
        key.to_user_string(): assets_def.get_asset_spec(key).group_name
        for assets_def in job.asset_layer.asset_graph.assets_defs
        if assets_def.is_executable
        for key in assets_def.keys
    }


class Progress:
    """A ``runner.Listener`` that writes progress to ``stream``.

    A line for each table made (its asset materialized), each check judged (passed, warn,
    error) and each step finished (done in so many seconds, FAILED, skipped), with the
    elapsed time, the stage and the editions of the run. ``live`` (a terminal): the step at
    work and the elapsed time also stay on the last line, redrawn every half second.
    """

    def __init__(
        self, job: dg.JobDefinition, stream: TextIO, live: bool, started: float | None = None
    ) -> None:
        self.steps, self.assets = step_stages(job), asset_stages(job)
        self.stream = stream
        self.live = live
        self.started = time.monotonic() if started is None else started
        self.step_started: dict[str, float] = {}
        self.last: dict[str, str] = {}  # step -> what it made last
        self.made: set[str] = set()  # assets made by the run
        self.done = 0
        self.editions = ""
        # the check whose results are arriving, and its (edition, outcome) so far
        self.judging: tuple[str, list[tuple[str | None, str]]] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._gone = False  # the reader of the stream left (``| head``): the run goes on
        self._ticker = threading.Thread(target=self._tick, daemon=True) if live else None
        if self._ticker is not None:
            self._ticker.start()

    def __call__(self, editions: tuple[int, int], entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        kind, step = event.event_type, event.step_key
        with self._lock:
            self.editions = editions_label(*editions)
            if kind != dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                self._judged()
            if kind == dg.DagsterEventType.RUN_START:
                self.done, self.made = 0, set()
            elif kind == dg.DagsterEventType.STEP_START:
                self.step_started[step] = time.monotonic()
            elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
                name = event.asset_key.to_user_string()
                self.last[step] = name
                if name not in self.made:  # a range run reports each edition's partition
                    self.made.add(name)
                    self._line(self.assets.get(name, "asset"), name, "made")
            elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                # one line per check, for all the editions it judged (one result each)
                evaluation = event.event_specific_data
                name = f"{evaluation.asset_key.to_user_string()}: {evaluation.check_name}"
                if self.judging and self.judging[0] != name:
                    self._judged()
                outcome = "passed" if evaluation.passed else evaluation.severity.value.lower()
                so_far = self.judging[1] if self.judging else []
                self.judging = (name, [*so_far, (evaluation.partition, outcome)])
            elif kind in ENDS:
                self.done += 1
                seconds = time.monotonic() - self.step_started.pop(step, time.monotonic())
                outcome = ENDS[kind] + (f" in {seconds:.1f} s" if kind in STEP_TIMED else "")
                if self.steps.get(step) != "check" or ENDS[kind] != "done":  # its line says
                    self._line("step", step, outcome)
            elif kind == dg.DagsterEventType.RUN_FAILURE:
                # the runner then runs each edition of a failed range on its own
                again = ""
                if "-" in self.editions and signalled() is None:  # stopped: nothing again
                    again = "; each edition again, in a run of its own"
                self._write(
                    f"{clock(self.elapsed):>7}  editions {self.editions}: the run failed{again}"
                )
            else:
                return
            self._draw()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _judged(self) -> None:
        """The line of the check whose results have all arrived: passed, or the outcomes
        other than passed with their editions when the run has several."""
        if self.judging is None:
            return
        name, outcomes = self.judging
        self.judging = None
        bad: dict[str, list[str]] = {}
        for edition, outcome in outcomes:
            if outcome != "passed":
                bad.setdefault(outcome, []).append(edition or "")
        if not bad:
            said = "passed"
        elif len(outcomes) == 1:
            said = next(iter(bad))
        else:
            said = "; ".join(f"{o} {', '.join(e)}" for o, e in sorted(bad.items()))
        self._line("check", name, said)

    def close(self) -> None:
        """Stop redrawing and clear the live line."""
        with self._lock:
            self._judged()
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            with self._lock:
                self._put("\r\x1b[K")

    def _line(self, stage: str, name: str, outcome: str) -> None:
        self._write(
            f"{clock(self.elapsed):>7}  {stage:<14} {name:<46} {self.editions:<9}  {outcome}"
        )

    def _write(self, line: str) -> None:
        self._put(("\r\x1b[K" if self.live else "") + line + "\n")

    def _put(self, text: str) -> None:
        """Write to the stream, unless its reader left: an error raised here would reach
        Dagster's event handling and stop the run, which has nothing to do with it."""
        if self._gone:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            self._gone = True

    def _draw(self) -> None:
        if not self.live:
            return
        if self.step_started:
            step = next(iter(self.step_started))
            made = f", made {self.last[step]}" if step in self.last else ""
            doing = f"{self.steps.get(step, 'step')} {step}{made}, editions {self.editions}"
        else:
            doing = f"editions {self.editions}" if self.editions else "starting Dagster"
        total = len(self.steps)
        line = f"{clock(self.elapsed):>7}  running {doing}  [{self.done}/{total} steps]"
        self._put("\r\x1b[K" + line[:99])

    def _tick(self) -> None:
        while not self._stop.wait(TICK):
            with self._lock:
                self._draw()
