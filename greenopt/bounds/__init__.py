"""Lower bounds on the offline objective that hold for the unrestricted problem.

The objective is SPEC §6's (:func:`greenopt.optimization.schedule_objective` with the same delay
term and prices); the problem is the full one — every connected site, a departure at any slot, the
feasibility filter as :class:`BoundSettings` says — not the restricted model the ``milp`` policy
solves, whose own bound (``model_bound``) certifies only that model. Methods:

* ``lp`` (:mod:`greenopt.bounds.lp`): the LP relaxation of the full model, reported as the dual
  objective of HiGHS' row duals (valid at any status);
* ``lagrangian`` (:mod:`greenopt.bounds.lagrangian`): coupling rows priced, per-job shortest paths
  by dynamic programming, prices from column generation (default) or subgradient ascent; link
  capacity dropped. Scales where the LP does not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from greenopt.bounds.settings import BoundSettings
from greenopt.instance import Instance


@dataclass
class BoundResult:
    """A lower bound and how it was obtained (``details``: the method's own figures)."""

    lower_bound: float | None
    method: str
    time_s: float
    settings: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "lower_bound": self.lower_bound,
            "method": self.method,
            "time_s": self.time_s,
            "objective": objective_description(self.settings),
            "settings": self.settings,
            **self.details,
        }


def objective_description(settings: dict[str, Any]) -> str:
    """One line naming the objective bounded."""
    prices = settings.get("terminal_price")
    return (
        f"SPEC §6: non-renewable energy + migration energy + slowdown_weight × "
        f"{settings['delay_term']} delay + terminal price "
        f"({'per-job default' if prices is None else prices}) + deadline price "
        f"{settings['deadline_price']:g}; feasibility filter "
        f"{'on' if settings['feasibility_filter'] else 'off'}"
    )


def full_model_arcs(instance: Instance) -> int:
    """Migration arc candidates of the full model (jobs × ordered site pairs × slots), the size
    ``auto`` decides by (cheap: no feasibility test)."""
    pairs = len(instance.sites) * (len(instance.sites) - 1)
    return sum(1 for j in instance.jobs if j.migratable) * pairs * instance.n_slots


def choose_method(instance: Instance, settings: BoundSettings) -> str:
    """``settings.method``, or for ``auto``: ``lp`` up to ``auto_lp_max_arcs`` arc candidates
    (flow delay term) else ``lagrangian``; the exact delay term always uses ``lp``."""
    if settings.method != "auto":
        return settings.method
    if settings.delay_term == "exact":
        return "lp"
    return "lp" if full_model_arcs(instance) <= settings.auto_lp_max_arcs else "lagrangian"


def lower_bound(
    instance: Instance, settings: BoundSettings | None = None, target: float | None = None
) -> BoundResult:
    """A lower bound on the objective of every valid schedule of ``instance`` (whose moves are
    feasible, with the filter on). ``target`` (lagrangian): an objective a schedule reached, to aim
    the step sizes at."""
    from greenopt.bounds.columns import column_bound
    from greenopt.bounds.lagrangian import lagrangian_bound
    from greenopt.bounds.lp import lp_bound

    settings = settings or BoundSettings()
    started = time.perf_counter()
    deadline = started + settings.time_limit_s
    method = choose_method(instance, settings)
    if method == "lp":
        details = lp_bound(instance, settings, deadline)
    elif settings.ascent == "columns":
        details = column_bound(instance, settings, deadline, target)
    else:
        details = lagrangian_bound(instance, settings, deadline, target)
    value = details.pop("lower_bound")
    return BoundResult(
        value,
        method,
        time.perf_counter() - started,
        settings.model_dump(mode="json"),
        details,
    )


__all__ = ["BoundResult", "BoundSettings", "choose_method", "lower_bound"]
