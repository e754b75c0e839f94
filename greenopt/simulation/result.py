"""What the simulator reports: the SPEC §4 rules it checks, the SPEC §5 metric names, each
:class:`Violation` and the :class:`SimulationResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

RULES = (
    "format",
    "arrival",
    "location",
    "migration_timing",
    "non_migratable",
    "capacity",
    "link_capacity",
    "work",
)

#: SPEC §5 metric names, in the order they are reported (``carbon_kg`` only with carbon data).
METRIC_NAMES = (
    "nre_kwh",
    "renewable_kwh",
    "renewable_share",
    "curtailed_kwh",
    "carbon_kg",
    "jct_mean_h",
    "jct_p95_h",
    "slowdown_mean",
    "slowdown_p95",
    "slowdown_std",
    "unfinished_jobs",
    "unfinished_work_h",
    "deadline_misses",
    "migrations",
    "migrated_gb",
    "migration_downtime_h",
    "infeasible_migrations",
)


@dataclass(frozen=True)
class Violation:
    """One broken SPEC §4 rule. ``job_id`` is None for capacity and link_capacity."""

    rule: str
    job_id: str | None
    slot: int | None
    message: str


@dataclass
class SimulationResult:
    """What :func:`simulate` found. Arrays are computed for every schedule (valid or not) from the
    rows that could be read; ``metrics`` only for a valid one.

    Site arrays are (sites × slots, kW): ``load_kw`` P, ``renewable_kw`` R (actual),
    ``renewable_used_kw`` r, ``grid_kw`` g. Job arrays: ``completion_h`` C_j (horizon_h if
    unfinished), ``computed_h``, ``finished``; (jobs × slots) ``run_fraction`` and ``location``
    (site index, −1 in transit, −2 before arrival). ``migration_feasible`` has one entry per row
    of migrations.csv (False when the row could not be judged).
    """

    valid: bool
    violations: list[Violation]
    metrics: dict[str, Any] | None
    load_kw: np.ndarray
    renewable_kw: np.ndarray
    renewable_used_kw: np.ndarray
    grid_kw: np.ndarray
    completion_h: np.ndarray
    computed_h: np.ndarray
    finished: np.ndarray
    run_fraction: np.ndarray
    location: np.ndarray
    migration_feasible: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def to_json(self) -> dict[str, Any]:
        """``{"valid", "violations": [[rule, job, slot, message], ...], "metrics"}``."""
        return {
            "valid": self.valid,
            "violations": [[v.rule, v.job_id, v.slot, v.message] for v in self.violations],
            "metrics": self.metrics,
        }
