"""Run a policy on an instance and judge its schedule with the one simulator."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from greenopt.files import write_schedule, write_text_atomic
from greenopt.instance import Instance
from greenopt.policies.base import Policy
from greenopt.schedule import Schedule
from greenopt.simulation import SimulationResult, simulate

#: SPEC §5 metrics that come from the policy, not the simulator.
SOLVER_METRICS = ("solve_s", "build_s", "model_gap")


@dataclass
class RunResult:
    """One policy run on one instance: the policy's name and settings, its schedule, the
    simulator's judgement of it on the actual traces (validity, violations, SPEC §5 metrics),
    what the policy reported beyond its schedule (``info``: solver status, bound, per-step
    records...) and its planning wall time in seconds (``wall_s``, simulation excluded)."""

    policy: str
    settings: dict[str, Any]
    schedule: Schedule
    simulation: SimulationResult
    info: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def metrics(self) -> dict[str, Any]:
        """SPEC §5 metrics: the simulator's, plus solve_s, build_s, model_gap where a solver ran."""
        out = dict(self.simulation.metrics or {})
        out.update({k: self.info[k] for k in SOLVER_METRICS if k in self.info})
        return out

    def record(self) -> dict[str, Any]:
        """One flat dict of scalars: policy, its settings, metrics, and solver details (nested
        info such as per-step records stays in ``metrics.json``)."""
        extra = {
            k: v
            for k, v in self.info.items()
            if k not in SOLVER_METRICS and (v is None or isinstance(v, str | int | float | bool))
        }
        return {
            "policy": self.policy,
            "valid": self.simulation.valid,
            **{f"setting.{k}": v for k, v in self.settings.items()},
            **self.metrics,
            **{f"info.{k}": v for k, v in extra.items()},
            "wall_s": self.wall_s,
        }

    def write(self, folder: str | Path) -> None:
        """``assignment.csv``, ``migrations.csv`` and ``metrics.json``, each written atomically.

        ``metrics.json`` holds ``policy``, ``settings``, the SPEC §5 metrics under their names, and
        ``info``: what the policy reported beyond them (wall time; for solvers the model bound,
        status, objective, model size, per-step records). An invalid schedule has no metrics but
        its ``violations``."""
        folder = Path(folder)
        write_schedule(self.schedule, folder)
        payload = {"policy": self.policy, "settings": self.settings, **self.metrics}
        payload["info"] = {
            "wall_s": self.wall_s,
            **{k: v for k, v in self.info.items() if k not in SOLVER_METRICS},
        }
        if not self.simulation.valid:
            payload["violations"] = self.simulation.to_json()["violations"]
        write_text_atomic(
            json.dumps(payload, indent=1, default=str) + "\n", folder / "metrics.json"
        )


def run_policy(instance: Instance, policy: Policy) -> RunResult:
    """Plan with ``policy`` on ``instance`` (the actual traces; forecasting policies derive their
    forecasts themselves) and simulate the schedule on the actual traces."""
    start = time.perf_counter()
    output = policy.plan(instance)
    wall = time.perf_counter() - start
    sim = simulate(instance, output.schedule)
    described = policy.describe()
    name = described.pop("policy")
    return RunResult(name, described, output.schedule, sim, output.info, wall)
