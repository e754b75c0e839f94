"""Benchmark sizes: instances made by ``greenopt generate`` (:func:`generate_instance`) from the
real SimBench profiles at 15-minute slots, seed 0, and the policy settings each size is run with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from greenopt.generate import generate_instance
from greenopt.instance import Instance


@dataclass(frozen=True)
class Size:
    """One benchmark size: ``generate_instance(sites, jobs, days, seed)`` at 15-minute slots."""

    name: str
    sites: int
    jobs: int
    days: float
    seed: int = 0

    def instance(self) -> Instance:
        return generate_instance(self.sites, self.jobs, self.days, self.seed, slot_minutes=15)

    @property
    def command(self) -> str:
        """The CLI line that writes the same instance."""
        return (
            f"greenopt generate --sites {self.sites} --jobs {self.jobs} --days {self.days:g} "
            f"--seed {self.seed}"
        )


SIZES: dict[str, Size] = {
    s.name: s
    for s in (
        Size("tiny", 3, 6, 1),  # smoke tests only
        Size("S", 6, 30, 3),
        Size("M", 12, 100, 7),
        Size("L", 20, 200, 7),
        Size("XL", 40, 500, 14),
    )
}


@dataclass(frozen=True)
class PolicyRun:
    """A policy and the settings it is benchmarked with."""

    policy: str
    settings: dict[str, Any] = field(default_factory=dict)


#: The benchmarked configurations. ``rolling``: 24 h lookahead, 1 h step, noisy forecast, fine
#: slots for the first 2 h then hourly periods, 3 s per step (model building included);
#: ``milp``: the offline model with 2 minutes.
_ROLLING = {
    "lookahead_h": 24.0,
    "step_h": 1.0,
    "forecast": "noisy",
    "time_limit_s": 3.0,
    "mip_rel_gap": 0.01,
}
POLICIES: dict[str, PolicyRun] = {
    "milp": PolicyRun("milp", {"time_limit_s": 120.0, "mip_rel_gap": 0.01}),
    "rolling": PolicyRun("rolling", {**_ROLLING, "coarsen_after_h": 2.0, "coarse_factor": 4}),
    # the same rolling policy without coarsening, for comparison
    "rolling_fine": PolicyRun("rolling", _ROLLING),
}


def append_rows(path: Path, table: pd.DataFrame) -> None:
    """Append ``table`` to the CSV at ``path`` (created with its folder if missing), atomically, so
    runs of several days stay comparable side by side; columns new to either side stay empty."""
    from greenopt.files import write_text_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    old = pd.read_csv(path) if path.exists() else None
    frame = table if old is None else pd.concat([old, table], ignore_index=True)
    write_text_atomic(frame.to_csv(index=False), path)  # full precision: figures are compared
