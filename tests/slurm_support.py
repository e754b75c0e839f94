"""Test-only plugin for the tests against a real Slurm (tests/test_slurm_real.py; no tests here).

Sweep files name it ``"slurm_support:HeldStatic"``; the driver and the Slurm jobs import this module
by name (the tests set PYTHONPATH to this folder; sbatch and srun pass it on to the jobs).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import Field

from greenopt.instance import Instance
from greenopt.policies.base import PolicyOutput
from greenopt.policies.heuristics import GreedySettings, StaticPolicy


class HeldSettings(GreedySettings):
    started_dir: str = ""  # each run leaves a file <SLURM_JOB_ID>-<pid>-<ns> here when it starts
    hold_until: str = ""  # then waits until this file exists (at most hold_max_s)
    hold_max_s: float = Field(600.0, ge=0)
    pause_s: float = Field(0.0, ge=0)  # then sleeps this long
    tag: int = 0  # tells points apart


class HeldStatic(StaticPolicy):
    """``static``, after announcing itself in ``started_dir``, waiting for ``hold_until`` and
    sleeping ``pause_s``: lets a test act on a sweep while runs are known to be in flight."""

    name = "held_static"
    Settings = HeldSettings

    def plan(self, instance: Instance) -> PolicyOutput:
        s = self.settings
        if s.started_dir:
            job = os.environ.get("SLURM_JOB_ID", "none")
            Path(s.started_dir, f"{job}-{os.getpid()}-{time.time_ns()}").touch()
        if s.hold_until:
            deadline = time.monotonic() + s.hold_max_s
            while not Path(s.hold_until).exists() and time.monotonic() < deadline:
                time.sleep(0.2)
        time.sleep(s.pause_s)
        return super().plan(instance)
