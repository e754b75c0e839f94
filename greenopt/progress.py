"""Progress of long work, reported to whoever listens.

Long-running code opens a :func:`task` (``compare``'s policies, ``rolling``'s steps, a HiGHS solve)
and updates it; the current :class:`Reporter` decides what to show. The default reporter shows
nothing; the command line installs one that draws on stderr (:mod:`greenopt.cli.progress_display`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Task:
    """One piece of work in progress: ``completed`` of ``total`` units (None: not counted), a short
    ``status`` (the last step's gap, the incumbent...), and when it started. ``eta``: whether
    the mean rate so far predicts the rest (not when units differ widely, as policies do)."""

    description: str
    total: int | None = None
    completed: int = 0
    status: str = ""
    eta: bool = True
    started: float = field(default_factory=lambda: time.monotonic())
    reporter: Reporter | None = field(default=None, repr=False)

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def eta_s(self) -> float | None:
        """Time left at the mean rate so far; None before the first unit or without a total."""
        if not self.eta or self.total is None or self.completed <= 0:
            return None
        return self.elapsed_s() / self.completed * max(0, self.total - self.completed)

    def update(
        self, *, advance: int = 0, completed: int | None = None, status: str | None = None
    ) -> None:
        """Count ``advance`` more units (or set ``completed``) and/or replace the status."""
        if completed is not None:
            self.completed = completed
        self.completed += advance
        if status is not None:
            self.status = status
        if self.reporter is not None:
            self.reporter.update(self)


class Reporter:
    """Receives tasks as they open, change and close. This base class ignores them all."""

    #: False for a reporter that shows nothing (``--quiet``, library use).
    shows_progress = False

    def open(self, task: Task) -> None:
        """A task started."""

    def update(self, task: Task) -> None:
        """A task's count or status changed."""

    def close(self, task: Task) -> None:
        """A task ended (finished or not)."""


_reporter: Reporter = Reporter()


def current() -> Reporter:
    """The reporter tasks are sent to."""
    return _reporter


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Send tasks opened in the block to ``reporter``."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield reporter
    finally:
        _reporter = previous


@contextmanager
def task(
    description: str, total: int | None = None, status: str = "", eta: bool = True
) -> Iterator[Task]:
    """A task reported to the current reporter from start to end of the block."""
    reporter = _reporter
    item = Task(description, total, status=status, eta=eta, reporter=reporter)
    reporter.open(item)
    try:
        yield item
    finally:
        reporter.close(item)


def hms(seconds: float) -> str:
    """``H:MM:SS``."""
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
