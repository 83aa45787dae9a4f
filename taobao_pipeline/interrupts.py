"""Stopping a command-line run: Ctrl-C (SIGINT) or a service manager's SIGTERM.

Dagster takes both signals during a run and turns them into a failure of the step at work;
the run then ends as failed, having published nothing more (a publish is one rename). The
command must not take that failure for a bad file and try each edition again: it stops,
says so in one line, and exits as a program killed by that signal would (130, 143).

Which signal came is read from Python's wakeup descriptor, which every signal reaches
whoever handles it (Dagster's handler swallows it).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """The run was stopped by a signal; nothing more is published."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


class Signals:
    """The signals received while ``stop_on_signals`` is in force."""

    def __init__(self, read_fd: int) -> None:
        self._fd = read_fd
        self.received: list[int] = []

    def last(self) -> int | None:
        """The last signal received so far (``None``: none)."""
        with contextlib.suppress(BlockingIOError):
            self.received += [b for b in os.read(self._fd, 64) if b in SIGNALS]
        return self.received[-1] if self.received else None


_ACTIVE: list[Signals] = []  # the Signals of the stop_on_signals in force, if any


def signalled() -> int | None:
    """The last signal received while ``stop_on_signals`` is in force, if any."""
    return _ACTIVE[-1].last() if _ACTIVE else None


def raise_if_signalled() -> None:
    """Raise ``Interrupted`` if a signal came while ``stop_on_signals`` is in force: one
    that Dagster took between two steps or after the last one still stops the command."""
    if (signum := signalled()) is not None:
        raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[Signals]:
    """SIGINT and SIGTERM raise ``Interrupted`` (outside Dagster's own handling), and each
    is recorded in the returned ``Signals``, even when Dagster handles it."""
    read_fd, write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    previous = {s: signal.signal(s, _raise) for s in SIGNALS}
    old_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    _ACTIVE.append(Signals(read_fd))
    try:
        yield _ACTIVE[-1]
    finally:
        _ACTIVE.pop()
        signal.set_wakeup_fd(old_fd)
        for s, handler in previous.items():
            signal.signal(s, handler)
        os.close(read_fd)
        os.close(write_fd)
