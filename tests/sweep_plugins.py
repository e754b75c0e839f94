"""Test-only plugins for the sweep tests (no tests here).

Sweep files name them as ``"<this module>:FlakyPolicy"``; Dask worker processes import this module
by name (the tests folder is on their ``sys.path``, inherited from pytest).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

from greenopt.instance import Instance
from greenopt.policies import make_policy
from greenopt.policies.base import Policy, PolicyOutput, PolicySettings

MODULE = __name__


class FlakySettings(PolicySettings):
    mode: Literal["ok", "crash_once", "crash_always", "raise"] = "ok"
    marker_dir: str = ""  # crash_once: a marker file here records that the first try happened
    tag: int = 0  # tells points apart
    sleep_s: float = 0.0
    threads: int = 4  # like a solver policy: sweeps force 1 unless told otherwise


class FlakyPolicy(Policy):
    """``static`` after ``sleep_s`` seconds; or kills its worker process (``os._exit``) on the
    first try (``crash_once``) or every try (``crash_always``); or raises (``raise``)."""

    name = "flaky"
    Settings = FlakySettings

    def plan(self, instance: Instance) -> PolicyOutput:
        s = self.settings
        time.sleep(s.sleep_s)
        if s.mode == "raise":
            raise RuntimeError(f"point {s.tag} always fails")
        if s.mode == "crash_always":
            os._exit(3)
        if s.mode == "crash_once":
            marker = Path(s.marker_dir) / f"tried-{s.tag}"
            if not marker.exists():
                marker.touch()
                os._exit(3)
        return make_policy("static").plan(instance)


def dead_point(spec: dict) -> dict:
    """A point function for :func:`run_sweep` that always kills its worker."""
    os._exit(4)
