"""``milp``: the offline MILP (SPEC §6) — one model over the whole horizon on the instance's
(actual) traces, warm-started from the best heuristic schedule, reported with the bound and gap of
its restricted model (``model_bound``, ``model_gap``)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field, field_validator

from greenopt import progress
from greenopt.instance import Instance
from greenopt.network import Network
from greenopt.optimization import (
    Budget,
    OptimizationError,
    apply_plan,
    objective_terms,
    solve_window,
)
from greenopt.optimization.sets import MoveCheck, start_moves
from greenopt.optimization.settings import ModelSettings
from greenopt.policies.base import Policy, PolicyOutput, PolicySettings
from greenopt.schedule import ScheduleBuilder
from greenopt.state import WindowState, builder_from_schedule

DEFAULT_STARTS = ("static", "pause_greedy", "feasibility_greedy", "energy_greedy")


class MilpSettings(ModelSettings, PolicySettings):
    """Model levers, prices and solver options (see :class:`ModelSettings`) plus warm starts."""

    warm_start: tuple[str, ...] = Field(
        DEFAULT_STARTS,
        description="heuristics whose schedules may warm-start HiGHS (comma-separated); the one "
        "with the lowest objective among those the model can represent is used; empty = none",
    )

    @field_validator("coarsen_after_h")
    @classmethod
    def _whole_horizon(cls, value: float) -> float:
        if value > 0:
            raise ValueError(
                "coarsen_after_h is for rolling windows; the offline MILP needs every "
                "slot of its horizon"
            )
        return value

    @field_validator("warm_start", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        return value


def best_warm_start(
    instance: Instance, settings: MilpSettings, network: Network
) -> tuple[ScheduleBuilder | None, dict[str, Any]]:
    """Plan with each heuristic of ``settings.warm_start``, drop those whose moves the model cannot
    hold (infeasible under the feasibility filter), and keep the lowest objective."""
    from greenopt.policies import make_policy

    check = MoveCheck.for_window(
        instance,
        WindowState.initial(instance),
        instance.n_slots,
        feasibility_filter=settings.feasibility_filter,
        network=network,
    )
    best: tuple[float, str, ScheduleBuilder] | None = None
    scores: dict[str, Any] = {}
    for name in settings.warm_start:
        if name in ("milp", "rolling"):
            raise ValueError(f"warm_start: {name!r} is not a heuristic")
        schedule = make_policy(name).plan(instance).schedule
        builder = builder_from_schedule(instance, schedule)
        if not check.holds(start_moves(builder, 0, instance.n_slots)):
            scores[name] = None  # not representable: moves infeasible under the filter
            continue
        value = float(objective_terms(instance, schedule, settings, network)["objective"])
        scores[name] = value
        if best is None or value < best[0]:
            best = (value, name, builder)
    info: dict[str, Any] = {f"warm_start_objective_{k}": v for k, v in scores.items()}
    if best is None:
        info.update(warm_start_used=None, warm_start_objective=None)
        return None, info
    info.update(warm_start_used=best[1], warm_start_objective=best[0])
    return best[2], info


class MilpPolicy(Policy):
    """Offline MILP over the whole horizon (clairvoyant: the instance's own traces)."""

    name = "milp"
    Settings = MilpSettings

    def plan(self, instance: Instance) -> PolicyOutput:
        settings: MilpSettings = self.settings  # type: ignore[assignment]
        budget = Budget(settings.time_limit_s)
        if not instance.jobs:
            raise OptimizationError("the instance has no jobs")
        with progress.task("milp", status="warm starts from the heuristics") as phase:
            network = Network(instance)
            started = time.perf_counter()
            start, start_info = best_warm_start(instance, settings, network)
            warm_start_s = time.perf_counter() - started
            phase.update(status="building the model, then HiGHS")
            result = solve_window(
                instance,
                WindowState.initial(instance),
                instance.n_slots,
                settings,
                start=start,
                budget=budget,
                network=network,
            )
        builder = ScheduleBuilder(instance)
        apply_plan(builder, result.sets, result.plan)
        schedule = builder.to_schedule()
        recomputed = objective_terms(instance, schedule, settings, network)
        info = {
            **result.info,
            "warm_start_s": warm_start_s,
            **start_info,
            **{
                f"objective_{k}" if k != "objective" else "objective_recomputed": v
                for k, v in recomputed.items()
            },
            **settings.model_dump(mode="json"),
            "warm_start": ",".join(settings.warm_start),
        }
        return PolicyOutput(schedule, info)
