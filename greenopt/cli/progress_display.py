"""What the command line shows while it works, on stderr (tables and JSON on stdout stay clean).

* :class:`RichReporter` draws the open :mod:`greenopt.progress` tasks as live bars on a terminal;
  :class:`LineReporter` writes a plain line per task at most every ``GREENOPT_PROGRESS_EVERY_S``
  seconds (default 10; 0: every change) elsewhere; ``greenopt --quiet`` shows none.
* :class:`RichSweepBar` is the live bar of ``greenopt sweep`` (runs done, failed, remaining and
  the sweep's own ETA), drawn for :class:`greenopt.sweep.execute.SweepProgress`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

import typer

from greenopt import progress
from greenopt.progress import Task, hms

if TYPE_CHECKING:
    from greenopt.sweep.execute import SweepProgress

#: Environment variable: seconds between two plain progress lines of a task.
EVERY_S_VARIABLE = "GREENOPT_PROGRESS_EVERY_S"


def task_text(task: Task) -> str:
    """``5/36 · 0:00:20 elapsed · ETA 0:02:04 · status`` (the parts that apply)."""
    parts = []
    if task.total is not None:
        parts.append(f"{task.completed}/{task.total}")
    parts.append(f"{hms(task.elapsed_s())} elapsed")
    eta = task.eta_s()
    if eta is not None:
        parts.append(f"ETA {hms(eta)}")
    if task.status:
        parts.append(task.status)
    return " · ".join(parts)


def stderr_stream() -> TextIO:
    """A text stream on the process's stderr that later redirections of file descriptor 2 (appsi
    captures it while HiGHS runs) do not divert; ``sys.stderr`` itself where it has no descriptor
    (tests)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return sys.stderr
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    return open(os.dup(fd), "w", buffering=1, encoding=encoding, errors="replace")  # noqa: SIM115


class LineReporter(progress.Reporter):
    """A plain line per task on ``stream``: when it has run ``every_s`` seconds since its last
    line (0: at every change), and when it ends if it was shown before."""

    shows_progress = True

    def __init__(self, stream: TextIO, every_s: float = 10.0):
        self.stream = stream
        self.every_s = every_s
        self.last_line: dict[int, float] = {}  # task id → time of its last line (or start)
        self.shown: set[int] = set()

    def open(self, task: Task) -> None:
        self.last_line[id(task)] = task.started
        if self.every_s <= 0:
            self._line(task, "started" if not task.status else task.status, bare=True)

    def update(self, task: Task) -> None:
        now = time.monotonic()
        if now - self.last_line.get(id(task), task.started) >= self.every_s:
            self.last_line[id(task)] = now
            self._line(task)

    def close(self, task: Task) -> None:
        self.last_line.pop(id(task), None)
        if id(task) in self.shown:
            self.shown.discard(id(task))
            self._line(task, "ended")

    def _line(self, task: Task, note: str | None = None, bare: bool = False) -> None:
        self.shown.add(id(task))
        text = note if bare else task_text(task) + (f" · {note}" if note else "")
        with contextlib.suppress(OSError, ValueError):  # a broken stderr must not end the work
            print(f"[greenopt] {task.description}: {text}", file=self.stream, flush=True)

    def finish(self) -> None:
        """Nothing to tidy for plain lines."""


class RichReporter(progress.Reporter):
    """Live bars on a terminal (rich), one row per open task; rows vanish when their task ends."""

    shows_progress = True

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.rows: dict[int, Any] = {}  # task id → rich task id
        self.bars: Any = None

    def _start(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn
        from rich.table import Column

        self.bars = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=16),
            TextColumn("{task.fields[text]}", table_column=Column(no_wrap=True)),
            console=Console(file=self.stream),
            transient=True,
            refresh_per_second=4,
            redirect_stdout=sys.stdout.isatty(),  # same terminal: print above the bars
            redirect_stderr=True,
        )
        self.bars.start()

    def open(self, task: Task) -> None:
        if self.bars is None:
            self._start()
        self.rows[id(task)] = self.bars.add_task(
            task.description, total=task.total, completed=task.completed, text=self._text(task)
        )

    def update(self, task: Task) -> None:
        row = self.rows.get(id(task))
        if row is not None:
            self.bars.update(row, completed=task.completed, text=self._text(task))

    def _text(self, task: Task) -> str:
        """:func:`task_text` cut to the room the terminal leaves beside the bar (one line)."""
        text = task_text(task)
        widest = max((len(row.description) for row in self.bars.tasks), default=0)
        room = max(12, self.bars.console.width - max(widest, len(task.description)) - 24)
        return text if len(text) <= room else text[: room - 1] + "…"

    def close(self, task: Task) -> None:
        row = self.rows.pop(id(task), None)
        if row is not None:
            self.bars.remove_task(row)
        if not self.rows:
            self.finish()

    def finish(self) -> None:
        """Stop drawing (the command ended or was interrupted)."""
        if self.bars is not None:
            self.bars.stop()
            self.bars = None


def make_reporter(quiet: bool) -> progress.Reporter:
    """Nothing if ``quiet``; live bars when stderr is a terminal; plain lines otherwise."""
    if quiet:
        return progress.Reporter()
    stream = stderr_stream()
    if stream.isatty():
        return RichReporter(stream)
    try:
        every_s = float(os.environ.get(EVERY_S_VARIABLE, "10"))
    except ValueError:
        every_s = 10.0
    return LineReporter(stream, every_s)


def start_progress(ctx: typer.Context, quiet: bool) -> None:
    """Report progress for the rest of the command (``ctx``) unless ``quiet``."""
    reporter = make_reporter(quiet)
    scope = progress.reporting(reporter)
    scope.__enter__()

    def stop() -> None:
        if hasattr(reporter, "finish"):
            reporter.finish()
        scope.__exit__(None, None, None)

    ctx.call_on_close(stop)


class RichSweepBar:
    """The live bar of a sweep: name, bar, runs ended of all, done/failed/remaining, elapsed
    time and the sweep's own ETA (re-rendered with the bar; rich's own stalls between runs)."""

    def __init__(self, sweep: SweepProgress):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.text import Text

        class EtaColumn(ProgressColumn):
            def render(self, task) -> Text:
                return Text(f"ETA {sweep.eta_text()}")

        self.sweep = sweep
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            EtaColumn(),
            console=Console(file=sweep.stream),
        )
        self.bar.start()
        self.task = self.bar.add_task(sweep.name, total=sweep.total, status=sweep.status_text())

    def advance(self) -> None:
        self.bar.update(self.task, advance=1, status=self.sweep.status_text())

    def print(self, text: str) -> None:
        self.bar.console.print(text)

    def stop(self) -> None:
        self.bar.stop()
