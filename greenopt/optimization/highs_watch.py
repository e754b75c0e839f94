"""Watching a HiGHS run through highspy's callbacks: stop it when an interrupt is requested, and
report the MIP's incumbent, dual bound and gap as it goes.

HiGHS polls its interrupt callbacks (simplex, interior point, MIP) many times a second; each poll
runs :meth:`HighsWatch.poll`, which asks HiGHS to stop once :func:`greenopt.interrupt.requested`
is set. HiGHS then returns with model status ``kInterrupt`` and :func:`watch_highs` raises the
interrupt. Without this, a Ctrl-C raised ``KeyboardInterrupt`` inside a callback and HiGHS
reported a solve error.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from greenopt import interrupt, progress

#: Seconds between two progress updates from inside HiGHS.
UPDATE_EVERY_S = 0.5


def mip_status(incumbent: float, bound: float, gap: float) -> str:
    """``incumbent … · bound … · gap … %`` from HiGHS' MIP figures (infinite: none yet)."""
    parts = [f"incumbent {incumbent:.6g}" if math.isfinite(incumbent) else "no incumbent yet"]
    if math.isfinite(bound):
        parts.append(f"bound {bound:.6g}")
    if math.isfinite(incumbent) and math.isfinite(gap):
        parts.append(f"gap {100 * gap:.2f} %")
    return " · ".join(parts)


class HighsWatch:
    """Callbacks for one HiGHS run: interrupt polling and (throttled) progress."""

    def __init__(self, task: progress.Task | None):
        self.task = task
        self.last_update = -math.inf

    def poll(self, event: Any) -> None:
        """Any interrupt callback: ask HiGHS to stop if an interrupt was requested."""
        if interrupt.requested() is not None:
            event.interrupt()

    def poll_lp(self, event: Any) -> None:
        """Simplex / interior point (the root LP of a MIP): poll, report the iterations."""
        self.poll(event)
        if self.task is not None and self._due():
            out = event.data_out
            iterations = max(out.simplex_iteration_count, 0) + max(out.ipm_iteration_count, 0)
            shown = f", {iterations} iterations" if iterations else ""
            self.task.update(status=f"LP relaxation{shown}")

    def poll_mip(self, event: Any) -> None:
        """Branch and bound: poll, report incumbent, dual bound and gap."""
        self.poll(event)
        if self.task is not None and self._due():
            out = event.data_out
            self.task.update(
                status=mip_status(out.mip_primal_bound, out.mip_dual_bound, out.mip_gap)
            )

    def _due(self) -> bool:
        now = time.monotonic()
        if now - self.last_update < UPDATE_EVERY_S:
            return False
        self.last_update = now
        return True


@contextmanager
def watch_highs(highs: Any, description: str | None = "HiGHS") -> Iterator[HighsWatch]:
    """Watch the runs of ``highs`` (a ``highspy.Highs``) in the block. A signal received in the
    block stops HiGHS instead of raising inside it; the block then ends by raising the interrupt
    (see :func:`greenopt.interrupt.deferred`). ``description`` None: no progress task (for many
    short runs inside a task of their own)."""
    opened = progress.task(description) if description is not None else nullcontext()
    with opened as task, interrupt.deferred():
        watch = HighsWatch(task)
        hooks = [
            (highs.cbSimplexInterrupt, watch.poll_lp),
            (highs.cbIpmInterrupt, watch.poll_lp),
            (highs.cbMipInterrupt, watch.poll_mip),
        ]
        for hook, callback in hooks:
            hook.subscribe(callback)
        try:
            yield watch
        finally:
            for hook, callback in hooks:
                hook.unsubscribe(callback)
