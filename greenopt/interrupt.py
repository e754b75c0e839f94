"""Clean interrupts: SIGINT (Ctrl-C) and SIGTERM become one typed exception, :class:`Interrupted`.

The command line installs :func:`handling_signals` around a command. A signal then raises
:class:`Interrupted` in the main thread at once, except inside :func:`deferred` blocks (a HiGHS
solve), where it only sets a flag that the block polls (HiGHS' interrupt callbacks stop the solver);
the block raises :class:`Interrupted` when it ends. The exception derives from ``BaseException``, so
``except Exception`` (solver fallbacks, retries) never swallows it; the command line catches it once
and exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM).

Without the command line's handlers (Python, notebooks), Ctrl-C stays a ``KeyboardInterrupt``;
:func:`deferred` then catches it for the length of the block, stops HiGHS the same way, and raises
``KeyboardInterrupt`` when the block ends.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

#: The signals handled by :func:`handling_signals`.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):  # noqa: N818 - it is not an error
    """The user (SIGINT) or the system (SIGTERM) asked the command to stop. ``kept`` says what
    finished work was kept and how to resume; the command that knows sets it."""

    def __init__(self, signum: int = signal.SIGINT, kept: str | None = None):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
        self.kept = kept

    @property
    def exit_code(self) -> int:
        """The shell convention: 128 + signal number."""
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


_requested: int | None = None  # the signal received, until the command ends
_deferring = 0  # depth of deferred() blocks
_installed = False  # handling_signals() is active


def requested() -> int | None:
    """The signal number if an interrupt was requested, else None."""
    return _requested


def check() -> None:
    """Raise :class:`Interrupted` if an interrupt was requested (for code that polls)."""
    if _requested is not None:
        raise Interrupted(_requested)


#: Loggers silenced once an interrupt is requested: Pyomo logs (on stdout) each component whose
#: construction an exception stopped, Dask the workers it loses while the cluster closes.
QUIET_AFTER_INTERRUPT = ("pyomo", "distributed")

_silenced: list[logging.Filterer] = []


def _not_interrupted(record: logging.LogRecord) -> bool:
    return _requested is None


def _silence_loggers() -> None:
    """Filter the handlers of :data:`QUIET_AFTER_INTERRUPT` (they exist once the libraries are
    imported, so this runs when the signal arrives)."""
    for name in QUIET_AFTER_INTERRUPT:
        for handler in logging.getLogger(name).handlers:
            if handler not in _silenced:
                handler.addFilter(_not_interrupted)
                _silenced.append(handler)


def _handle(signum: int, frame: object) -> None:
    global _requested
    _requested = signum
    _silence_loggers()
    if not _deferring:
        raise Interrupted(signum)


@contextmanager
def handling_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` for the block (main thread only; elsewhere
    a no-op); once a signal arrived, the loggers of :data:`QUIET_AFTER_INTERRUPT` stay silent.
    Restores the previous handlers and clears the request afterwards."""
    global _requested, _installed, _note
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handle) for sig in SIGNALS}
    _installed, _requested, _note = True, None, None
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _installed, _requested = False, None
        while _silenced:
            _silenced.pop().removeFilter(_not_interrupted)


@contextmanager
def deferred() -> Iterator[None]:
    """A block during which a signal only sets the flag (:func:`requested`); the block's code
    polls it and stops early. When the block ends, a requested interrupt is raised: as
    :class:`Interrupted` under :func:`handling_signals`, else as ``KeyboardInterrupt``."""
    global _deferring, _requested
    borrowed = None  # SIGINT handler replaced for the block (Python use, main thread only)
    if (
        not _installed
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        borrowed = signal.signal(signal.SIGINT, _handle)
    requested = None  # Python use: the flag ends with the block, even if the block raises
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if borrowed is not None:
            signal.signal(signal.SIGINT, borrowed)
            requested, _requested = _requested, None
            while _silenced:
                _silenced.pop().removeFilter(_not_interrupted)
    if borrowed is not None:
        if requested is not None:
            raise KeyboardInterrupt
    elif _requested is not None:
        raise Interrupted(_requested)


_note: str | None = None  # what is kept, for an Interrupted that has no note of its own


def note_kept(text: str) -> None:
    """From now on (until the command ends), an interrupt without a note of its own says ``text``:
    for a command past the point where its result is on disk."""
    global _note
    _note = text


def kept_note() -> str | None:
    """The note set by :func:`note_kept`, if any."""
    return _note


@contextmanager
def explain(describe: Callable[[], str]) -> Iterator[None]:
    """If :class:`Interrupted` passes through the block without a note of what was kept, attach
    ``describe()`` (called then, so it can say how far the work got)."""
    try:
        yield
    except Interrupted as exc:
        if exc.kept is None:
            exc.kept = describe()
        raise


@contextmanager
def children_ignore_signals() -> Iterator[None]:
    """Processes that ``multiprocessing`` spawns in the block start with SIGINT and SIGTERM ignored
    (through a ``sh`` wrapper that ignores them and execs this Python; Python leaves a signal
    ignored at its start alone). The worker processes of an embedded Dask cluster so ignore a
    Ctrl-C sent to the terminal's whole process group (or a SIGTERM to the group): only the driver
    acts on it, and closes the cluster, which stops its workers by message (and kills them if
    they do not stop). POSIX only; elsewhere a no-op."""
    import multiprocessing.spawn as mp_spawn

    if os.name != "posix":
        yield
        return
    python = os.fsdecode(mp_spawn.get_executable())
    with tempfile.TemporaryDirectory(prefix="greenopt-") as folder:
        wrapper = Path(folder) / "python"
        wrapper.write_text(f"#!/bin/sh\ntrap '' INT TERM\nexec {shlex.quote(python)} \"$@\"\n")
        wrapper.chmod(0o700)
        if not os.access(wrapper, os.X_OK):  # a temporary folder mounted noexec: do without
            yield
            return
        mp_spawn.set_executable(str(wrapper))
        try:
            yield
        finally:
            mp_spawn.set_executable(python)
