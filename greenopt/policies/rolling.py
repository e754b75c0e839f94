"""``rolling``: the rolling-horizon MILP (SPEC §6).

Every ``step_h`` hours, at slot t0, the policy

1. issues a forecast of the renewable power (``perfect``, ``persistence`` or ``noisy``),
2. derives the state every job is in from what has been committed so far — where it lies or is
   heading (in-flight migrations keep their link usage), its remaining work, finished or not,
3. solves the window [t0, t0 + lookahead) on the forecast, warm-started from whichever scores
   the lower model objective: the greedy plan that ``feasibility_greedy`` would follow from that
   state, or the previous step's plan shifted (its slots from t0 on, then the greedy plan for the
   slots it did not cover),
4. commits the plan's first step: migrations departing in it and its run fractions.

The committed schedule is what the simulator plays against the actual traces. A step whose solve
fails (no incumbent, infeasible model) falls back to ``feasibility_greedy`` for that step and the
fallback is recorded; an interrupt (:class:`greenopt.interrupt.Interrupted`) is never a failure: it
ends the policy. The greedy plans (starts and fallback) use the policy's ``feasibility_filter``, so
with the filter off no part of the policy refuses infeasible moves. ``time_limit_s`` is per step
and covers its model building. Progress (step i/N, the last step's gap) goes to
:mod:`greenopt.progress`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from greenopt import interrupt, progress
from greenopt.forecast import ForecastName, make_forecaster
from greenopt.instance import Instance
from greenopt.network import Network
from greenopt.optimization import Budget, OptimizationError, apply_plan
from greenopt.optimization.records import WindowRecord
from greenopt.optimization.settings import ModelSettings
from greenopt.optimization.solve import WindowModel
from greenopt.policies.base import Policy, PolicyOutput, PolicySettings
from greenopt.policies.heuristics import FeasibilityGreedyPolicy, GreedyEngine
from greenopt.schedule import ScheduleBuilder
from greenopt.state import WindowState, state_at

#: The fields of a step's :class:`WindowRecord` kept in ``info["step_records"]``.
STEP_KEYS = (
    "build_s",
    "sets_s",
    "model_s",
    "handoff_s",
    "solve_s",
    "model_gap",
    "objective",
    "solver_objective",
    "n_variables",
    "n_binaries",
    "n_constraints",
    "n_periods",
    "start",
    "start_objectives",
)


@dataclass
class StepRecord:
    """One rolling step: its first slot, the seconds its warm starts took, the window's figures
    (None when the step fell back), its status ("optimal", "time_limit" or "fallback"), the error
    that made it fall back, and its wall time."""

    t0: int
    starts_s: float
    status: str = "fallback"
    window: WindowRecord | None = None
    error: str | None = None
    wall_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The flat dict of ``info["step_records"]``: t0, starts_s, the :data:`STEP_KEYS` of the
        window record, status, error (fallback only), wall_s."""
        out: dict[str, Any] = {"t0": self.t0, "starts_s": self.starts_s}
        if self.window is not None:
            figures = self.window.as_dict()
            out.update({k: figures[k] for k in STEP_KEYS})
        out["status"] = self.status
        if self.error is not None:
            out["error"] = self.error
        out["wall_s"] = self.wall_s
        return out


class RollingSettings(ModelSettings, PolicySettings):
    """Rolling-horizon settings; model levers, prices and solver options as for ``milp``
    (``time_limit_s`` is per step)."""

    step_h: float = Field(1.0, gt=0, description="hours committed per solve")
    lookahead_h: float = Field(24.0, gt=0, description="hours each solve looks ahead")
    forecast: ForecastName = Field("noisy", description="perfect | persistence | noisy")
    forecast_error: float = Field(
        0.2, ge=0, description="noisy: relative standard error at 24 h lead (grows as √lead)"
    )
    time_limit_s: float = Field(10.0, gt=0, description="wall-clock budget of each step's solve")
    mip_rel_gap: float = Field(0.005, ge=0, description="HiGHS relative MIP gap of each step")


def greedy_engine_at(
    instance: Instance,
    builder: ScheduleBuilder,
    state: WindowState,
    network: Network | None = None,
    feasibility_filter: bool = True,
) -> GreedyEngine:
    """A ``feasibility_greedy`` engine that continues ``builder`` from ``state`` (on ``instance``,
    usually a forecast view; ``network``: the instance's routes, if already built)."""
    policy = FeasibilityGreedyPolicy(feasibility_filter=feasibility_filter)
    policy.prepare(instance, first_slot=state.t0)
    return GreedyEngine(instance, policy, network).start_from(builder, state)


def shift_plan(
    instance: Instance,
    builder: ScheduleBuilder,
    t0: int,
    planned: ScheduleBuilder,
    covered: int,
    t_end: int,
    network: Network | None = None,
    feasibility_filter: bool = True,
) -> ScheduleBuilder:
    """The previous step's plan as a start for the window [t0, t_end): ``builder`` (committed
    before t0) with ``planned``'s migrations departing in [t0, covered) and its run fractions
    there, then the greedy plan from ``covered`` on."""
    out = builder.copy()
    for mv in sorted(planned.migrations, key=lambda mv: mv.depart_slot):
        if t0 <= mv.depart_slot < covered:
            out.add_migration(mv.job, mv.depart_slot, mv.dst, mv.transfer_s)
    out.run[:, t0:covered] = planned.run[:, t0:covered]
    if covered < t_end:
        tail_state = state_at(instance, out, covered)
        greedy_engine_at(instance, out, tail_state, network, feasibility_filter).run(covered, t_end)
    return out


class RollingPolicy(Policy):
    """``rolling``: every ``step_h`` re-solve the MILP over the next ``lookahead_h`` on a fresh
    forecast from the committed state, commit the first step, and fall back to
    ``feasibility_greedy`` for a step that cannot be solved (recorded); see the module
    docstring."""

    name = "rolling"
    Settings = RollingSettings
    #: Called with each step's :class:`WindowModel` once it is solved and read (benchmarks use it
    #: to see every step); None = nothing.
    window_observer: Callable[[WindowModel], None] | None = None

    def plan(self, instance: Instance) -> PolicyOutput:
        s: RollingSettings = self.settings  # type: ignore[assignment]
        dt, n = instance.dt_h, instance.n_slots
        step = max(1, int(round(s.step_h / dt)))
        look = max(step, int(round(s.lookahead_h / dt)))
        forecaster = make_forecaster(s.forecast, s.forecast_error, s.seed)
        flt = s.feasibility_filter
        network = Network(instance)
        builder = ScheduleBuilder(instance)
        steps: list[StepRecord] = []
        previous: tuple[ScheduleBuilder, int] | None = None  # last plan, and the slot it ends
        with progress.task("rolling steps", total=-(-n // step)) as bar:
            for t0 in range(0, n, step):
                state = state_at(instance, builder, t0)
                if all(js.status == "finished" for js in state.jobs):
                    break
                t_end, until = min(n, t0 + look), min(n, t0 + step)
                coarse_start = None
                if s.coarsen_after_h > 0:
                    coarse_start = t0 + max(step, int(round(s.coarsen_after_h / dt)))
                started = time.perf_counter()
                budget = Budget(s.time_limit_s)  # the whole step: forecast, start, build, solve
                view = instance.with_renewable(
                    forecaster.forecast(instance.renewable_kw, t0, dt), name=f"{instance.name}@{t0}"
                )
                start = builder.copy()
                greedy_engine_at(view, start, state, network, flt).run(t0, t_end)
                others = (
                    []
                    if previous is None
                    else [shift_plan(view, builder, t0, *previous, t_end, network, flt)]
                )
                record = StepRecord(t0, time.perf_counter() - started)
                try:
                    window = WindowModel(
                        view,
                        state,
                        t_end,
                        s,
                        start=start,
                        other_starts=others,
                        budget=budget,
                        network=network,
                        coarse_start=coarse_start,
                    ).build()
                    report = window.solve()
                    plan = window.read()
                    fine_end = min(t_end, window.sets.grid.coarse_start)
                    previous = (builder.copy(), fine_end)
                    apply_plan(previous[0], window.sets, plan, until=fine_end)
                    apply_plan(builder, window.sets, plan, until=until)
                    record.window, record.status = window.record(), report.status
                    if self.window_observer is not None:
                        self.window_observer(window)
                except OptimizationError as exc:
                    interrupt.check()  # a solve stopped by an interrupt is never a fallback
                    greedy_engine_at(view, builder, state, network, flt).run(t0, until)
                    previous = None
                    record.status, record.error = "fallback", str(exc)
                record.wall_s = time.perf_counter() - started
                steps.append(record)
                bar.update(advance=1, status=step_status(record))
        return PolicyOutput(builder.to_schedule(), summarize_steps(steps, s))


def step_status(record: StepRecord) -> str:
    """The progress note of a finished step: its gap, or that it fell back."""
    if record.status == "fallback":
        return "last step fell back to feasibility_greedy"
    gap = record.window.model_gap
    return "last step gap " + ("unknown" if gap is None else f"{100 * gap:.2f} %")


def summarize_steps(steps: list[StepRecord], settings: RollingSettings) -> dict[str, Any]:
    """Totals and per-step distributions (SPEC §5 ``solve_s``, ``build_s``; ``model_gap`` is the
    median over solved steps), the settings, and every step's record."""
    solved = [r.window for r in steps if r.window is not None]
    gaps = np.array([w.model_gap for w in solved if w.model_gap is not None], float)
    walls = np.array([r.wall_s for r in steps], float)
    info: dict[str, Any] = {
        "solve_s": float(sum(r.window.solve_s if r.window else 0.0 for r in steps)),
        "build_s": float(sum(r.window.build_s if r.window else 0.0 for r in steps)),
        "model_gap": float(np.median(gaps)) if len(gaps) else None,
        "steps": len(steps),
        "fallback_steps": sum(r.status == "fallback" for r in steps),
        "time_limit_steps": sum(r.status == "time_limit" for r in steps),
        "step_gap_p90": float(np.percentile(gaps, 90)) if len(gaps) else None,
        "step_gap_max": float(gaps.max()) if len(gaps) else None,
        "step_wall_median_s": float(np.median(walls)) if len(walls) else None,
        "step_wall_max_s": float(walls.max()) if len(walls) else None,
        **settings.model_dump(mode="json"),
        "step_records": [r.as_dict() for r in steps],
    }
    return info
