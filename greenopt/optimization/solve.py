"""Solving a window model with HiGHS through Pyomo's persistent ``appsi_highs`` interface.

:class:`WindowModel` is the whole pipeline for one window — :meth:`~WindowModel.build` (sets,
model, warm start), :meth:`~WindowModel.solve`, :meth:`~WindowModel.read` (the plan) — under one
wall-clock budget that includes building: HiGHS gets only what is left, and if building used it
all up the solve is refused with :class:`OptimizationError`. :func:`solve_window` runs the three
steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from greenopt import interrupt
from greenopt.instance import Instance
from greenopt.network import Network
from greenopt.optimization.array_solution import choose_start_vector, read_plan_vector
from greenopt.optimization.arrays import build_arrays
from greenopt.optimization.highs import ArraySolver, use_threads
from greenopt.optimization.highs_watch import watch_highs
from greenopt.optimization.model import build_model, model_size
from greenopt.optimization.records import WindowRecord
from greenopt.optimization.sets import OptimizationError, WindowSets, build_sets
from greenopt.optimization.settings import ModelSettings
from greenopt.optimization.solution import WindowPlan, read_plan, set_start, start_moves
from greenopt.schedule import ScheduleBuilder
from greenopt.state import WindowState

#: HiGHS needs a little time to do anything useful; less than this left after building is refused.
MIN_SOLVE_S = 0.05


def reserve_s(n_variables: int, remaining_s: float) -> float:
    """Time kept back from HiGHS for reading the solution back (≈ 0.7 s for 100k variables) and for
    HiGHS overrunning its limit while a large LP finishes (measured up to ≈ 3 s at 80k variables,
    ≈ 0.5 s at 9k): 0.2 s + 30 µs per variable, at most half of what is left (with at most a
    fifth, XL rolling steps of 12–14k variables overran a 3 s budget by up to 0.22 s)."""
    return min(0.5 * remaining_s, 0.2 + 3e-5 * n_variables)


def no_time_left(settings: ModelSettings) -> OptimizationError:
    return OptimizationError(
        f"no time left to solve: building used the budget (time_limit_s="
        f"{settings.time_limit_s}); raise time_limit_s or shrink the model "
        "(candidate_sites, departure_every)"
    )


class Budget:
    """Wall-clock budget started at construction."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def remaining(self) -> float:
        return self.seconds - self.elapsed()


@dataclass
class SolveReport:
    """Outcome of one HiGHS run. ``status``: "optimal" (HiGHS proved its incumbent within
    mip_rel_gap) or "time_limit" (an incumbent, not proven); ``objective``: the model objective of
    the solution loaded into the model; ``solver_objective``: the objective HiGHS reported, which
    need not be the loaded solution's (see :class:`IntegerStartHighs`); ``model_gap`` =
    (objective − model_bound) / max(|objective|, 1e-9)."""

    status: str
    termination: str
    objective: float
    model_bound: float | None
    model_gap: float | None
    solve_s: float
    solver_objective: float


class IntegerStartHighs(Highs):
    """appsi HiGHS whose MIP start gives HiGHS the integer variables' values only; HiGHS completes
    the continuous ones by an LP with the integers fixed (≈ 0.1 s for a 30k-column window).

    appsi's own warm start passes every value. HiGHS (1.16) checks such a start in the presolved
    space, where presolve has already set removed columns to values at least as good, and when
    the start stays its best incumbent returns the start as given while reporting the presolved
    objective: the loaded solution was then worse than reported (604.7 vs 602.0 kWh on a
    12 × 100 window). A start that is LP-optimal for its integers leaves nothing to gain."""

    def _warm_start(self) -> None:
        columns, values = [], []
        for var_id, column in self._pyomo_var_to_solver_var_map.items():
            var = self._vars[var_id][0]
            if var.is_integer() and var.value is not None:
                columns.append(column)
                values.append(var.value)
        if columns:
            self._solver_model.setSolution(
                len(columns), np.array(columns, np.int32), np.array(values, float)
            )

    def _solve(self, timer):
        use_threads(int(self.highs_options.get("threads", 1)))
        # a signal in here stops HiGHS through its callbacks, then raises (highs_watch)
        with watch_highs(self._solver_model):
            return super()._solve(timer)

    def _postsolve(self, timer):
        if interrupt.requested() is not None:
            return None  # an interrupted run is no result: _solve raises the interrupt
        return super()._postsolve(timer)


class ModelSolver:
    """A persistent appsi HiGHS solver bound to one model; :meth:`solve` may be called again after
    the model's mutable parameters change (only parameters are re-read)."""

    def __init__(self, settings: ModelSettings):
        self.settings = settings
        # only_child_vars: every variable is the model's, so appsi adds them at once
        self.solver = IntegerStartHighs(only_child_vars=True)
        if not self.solver.available():
            raise OptimizationError("HiGHS (highspy) is not available")
        config = self.solver.config
        config.load_solution = False
        config.stream_solver = settings.solver_log
        self.solver.highs_options = {
            "threads": settings.threads,
            "random_seed": settings.seed,
            "mip_rel_gap": settings.mip_rel_gap,
            "output_flag": settings.solver_log,
        }
        self.model: pyo.ConcreteModel | None = None

    def load(self, model: pyo.ConcreteModel) -> None:
        """Hand the model to HiGHS (part of building); later solves only update parameters."""
        self.solver.set_instance(model)
        self.model = model
        update = self.solver.update_config
        for option in (
            "check_for_new_or_removed_constraints",
            "check_for_new_or_removed_vars",
            "check_for_new_or_removed_params",
            "check_for_new_objective",
            "update_constraints",
            "update_vars",
            "update_named_expressions",
            "update_objective",
        ):
            setattr(update, option, False)
        update.update_params = True

    def update_parameters(self) -> float:
        """Push changed mutable parameters (R, rem, at_entry) to HiGHS; returns seconds taken
        (:meth:`solve` does this itself; timed separately it is the re-solve overhead)."""
        started = time.perf_counter()
        self.solver.update_params()
        return time.perf_counter() - started

    def solve(self, time_limit_s: float, warm_start: bool) -> SolveReport:
        """Run HiGHS for at most ``time_limit_s`` seconds, starting from the variables' current
        values if ``warm_start`` (their integer part, see :class:`IntegerStartHighs`); load the
        best solution into the model and report its objective."""
        if self.model is None:
            raise OptimizationError("no model loaded")
        if time_limit_s < MIN_SOLVE_S:
            raise no_time_left(self.settings)
        self.solver.config.time_limit = time_limit_s
        self.solver.config.warmstart = warm_start
        started = time.perf_counter()
        results = self.solver.solve(self.model)
        solve_s = time.perf_counter() - started
        term = results.termination_condition
        solver_objective = results.best_feasible_objective
        if term == TerminationCondition.optimal:
            status = "optimal"
        elif term == TerminationCondition.maxTimeLimit and solver_objective is not None:
            status = "time_limit"
        elif term == TerminationCondition.maxTimeLimit:
            raise OptimizationError(
                f"HiGHS found no schedule within {time_limit_s:.1f} s (no incumbent)"
            )
        elif term in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
            raise OptimizationError(f"the model is {term.name} — a modelling error or bad state")
        else:
            raise OptimizationError(f"HiGHS stopped with {term.name}")
        self.solver.load_vars()
        objective = float(pyo.value(self.model.objective))
        bound = results.best_objective_bound
        bound = None if bound is None or not math.isfinite(bound) else float(bound)
        gap = None if bound is None else max(0.0, objective - bound) / max(abs(objective), 1e-9)
        return SolveReport(
            status, term.name, objective, bound, gap, solve_s, float(solver_objective)
        )


def choose_start(
    model: pyo.ConcreteModel, sets: WindowSets, starts: Sequence[ScheduleBuilder]
) -> tuple[int, list[float | None]]:
    """Set the model's variables to the start with the lowest model objective among those whose
    window migrations are all arcs of the model; returns its position and every start's objective
    (None: not representable). The first start must be representable."""
    objectives: list[float | None] = []
    loaded = None  # the start whose values the variables hold
    for i, builder in enumerate(starts):
        if not sets.holds(builder):
            objectives.append(None)
            continue
        set_start(model, sets, builder)
        loaded = i
        objectives.append(float(pyo.value(model.objective)))
    best = min((i for i, v in enumerate(objectives) if v is not None), key=lambda i: objectives[i])
    if best != loaded:
        set_start(model, sets, starts[best])
    return best, objectives


@dataclass
class WindowResult:
    """Everything one window solve produced; ``info`` is ``record`` as a flat dict."""

    sets: WindowSets
    #: the Pyomo model (backend "pyomo") or :class:`~greenopt.optimization.arrays.ModelArrays`
    model: Any
    plan: WindowPlan
    report: SolveReport
    record: WindowRecord
    #: the loaded persistent solver: update the model's mutable parameters, then ``solve`` again
    #: (:class:`ModelSolver`, or ``highs.ArraySolver`` for the arrays backend)
    solver: Any = None

    @property
    def build_s(self) -> float:
        return self.record.build_s

    @property
    def info(self) -> dict[str, Any]:
        return self.record.as_dict()


#: An extension hook (as PyPSA's ``extra_functionality``): called with the built Pyomo model and
#: its sets before the warm start is chosen and the model handed to HiGHS; it may add variables,
#: constraints, or change the objective.
ExtraFunctionality = Callable[[pyo.ConcreteModel, WindowSets], None]


def arrays_backend(sets: WindowSets, settings: ModelSettings, starts: Sequence[ScheduleBuilder]):
    """The arrays path of :meth:`WindowModel.build`: the model as arrays, the best start chosen,
    both handed to HiGHS; returns (arrays, solver, chosen start, start objectives, when the model
    and start were done)."""
    arrays = build_arrays(sets, settings)
    chosen, start_objectives, x = None, [], None
    if starts:
        chosen, start_objectives, x = choose_start_vector(arrays, starts)
    model_done = time.perf_counter()
    solver = ArraySolver(settings)
    solver.load(arrays, x)
    return arrays, solver, chosen, start_objectives, model_done


class WindowModel:
    """The model of window [state.t0, t_end) of ``instance`` (its renewable array is what the
    model believes), in three steps: :meth:`build` (sets, model, warm start, hand-off to HiGHS),
    :meth:`solve` (HiGHS within what is left of the budget), :meth:`read` (the plan).

    ``start`` (a schedule of the whole instance consistent with ``state``) warm-starts HiGHS: its
    migrations inside the window are added to the arcs. Each of ``other_starts`` whose migrations
    the model can hold is added the same way, and HiGHS starts from whichever has the lowest model
    objective (``record.start``: 0 = ``start``). The ``budget`` (default:
    ``settings.time_limit_s`` from construction) covers building and solving. From slot
    ``coarse_start`` on (None = never) periods are ``settings.coarse_factor`` slots long.

    ``extra_functionality`` (:data:`ExtraFunctionality`) extends the model; it needs
    ``settings.backend == "pyomo"`` (the arrays backend assembles a fixed matrix and offers no
    hook: a family added this way exists in Pyomo only)."""

    def __init__(
        self,
        instance: Instance,
        state: WindowState,
        t_end: int,
        settings: ModelSettings,
        *,
        start: ScheduleBuilder | None = None,
        other_starts: Sequence[ScheduleBuilder] = (),
        budget: Budget | None = None,
        network: Network | None = None,
        coarse_start: int | None = None,
        extra_functionality: ExtraFunctionality | None = None,
    ):
        if extra_functionality is not None and settings.backend != "pyomo":
            raise ValueError('extra_functionality needs settings.backend = "pyomo"')
        self.budget = budget or Budget(settings.time_limit_s)
        self.instance, self.state, self.t_end, self.settings = instance, state, t_end, settings
        self.start, self.other_starts = start, tuple(other_starts)
        self.network = network or Network(instance)
        self.coarse_start = coarse_start
        self.extra_functionality = extra_functionality
        self.sets: WindowSets | None = None
        self.model: Any = None
        self.solver: Any = None
        self.report: SolveReport | None = None
        self._times: tuple[float, float, float] | None = None
        self._chosen: int | None = None
        self._start_objectives: list[float | None] = []

    def build_sets(self) -> WindowSets:
        """The window's sparse sets; every start's window migrations the model can hold are
        arcs (:func:`~greenopt.optimization.sets.build_sets` decides which)."""
        settings, state, t_end = self.settings, self.state, self.t_end
        coarse_start = self.coarse_start
        cut = t_end if coarse_start is None or settings.coarse_factor <= 1 else coarse_start

        def window_moves(builder: ScheduleBuilder) -> tuple[tuple[int, int, int, int], ...]:
            return tuple(sorted(start_moves(builder, state.t0, min(t_end, cut))))

        required = window_moves(self.start) if self.start is not None else ()
        return build_sets(
            self.instance,
            state,
            t_end,
            candidate_k=settings.candidate_sites,
            departure_every=settings.departure_every,
            feasibility_filter=settings.feasibility_filter,
            required_moves=required,
            optional_moves=tuple(window_moves(b) for b in self.other_starts),
            network=self.network,
            coarse_start=cut if cut < t_end else None,
            coarse_factor=settings.coarse_factor,
        )

    def build(self) -> WindowModel:
        """Sets, model (``settings.backend``), ``extra_functionality``, the best warm start, and
        the hand-off to HiGHS; records the seconds of each part. Returns ``self``."""
        settings = self.settings
        built = time.perf_counter()
        sets = self.build_sets()
        sets_done = time.perf_counter()
        starts = [self.start, *self.other_starts] if self.start is not None else []
        if settings.backend == "arrays":
            model, solver, chosen, start_objectives, model_done = arrays_backend(
                sets, settings, starts
            )
        else:
            model = build_model(sets, settings)
            if self.extra_functionality is not None:
                self.extra_functionality(model, sets)
            chosen, start_objectives = None, []
            if starts:
                chosen, start_objectives = choose_start(model, sets, starts)
            model_done = time.perf_counter()
            solver = ModelSolver(settings)
            solver.load(model)
        handoff_done = time.perf_counter()
        self.sets, self.model, self.solver = sets, model, solver
        self._chosen, self._start_objectives = chosen, start_objectives
        self._times = (sets_done - built, model_done - sets_done, handoff_done - model_done)
        return self

    def size(self) -> dict[str, int]:
        """n_variables, n_binaries, n_constraints of the built model."""
        return self.model.size() if self.settings.backend == "arrays" else model_size(self.model)

    def solve(self) -> SolveReport:
        """Run HiGHS on the built model within what is left of the budget, less a reserve for
        reading back (:func:`reserve_s`); warm-started if there is a ``start``."""
        if self.model is None:
            raise OptimizationError("build the window model before solving it")
        remaining = self.budget.remaining()
        if remaining < MIN_SOLVE_S:
            raise no_time_left(self.settings)
        limit = remaining - reserve_s(self.size()["n_variables"], remaining)
        self.report = self.solver.solve(limit, warm_start=self.start is not None)
        return self.report

    def read(self) -> WindowPlan:
        """The solution as a :class:`WindowPlan`."""
        if self.report is None:
            raise OptimizationError("solve the window model before reading it")
        if self.settings.backend == "arrays":
            return read_plan_vector(self.model, self.solver.x)
        return read_plan(self.model, self.sets)

    def record(self) -> WindowRecord:
        """The build and solve figures of this window."""
        report, (sets_s, model_s, handoff_s) = self.report, self._times
        return WindowRecord(
            build_s=sets_s + model_s + handoff_s,
            sets_s=sets_s,
            model_s=model_s,
            handoff_s=handoff_s,
            n_periods=len(self.sets.window),
            solve_s=report.solve_s,
            model_gap=report.model_gap,
            model_bound=report.model_bound,
            objective=report.objective,
            solver_objective=report.solver_objective,
            solver_status=report.status,
            termination=report.termination,
            **self.size(),
            n_arcs=len(self.sets.arcs),
            start=self._chosen,
            start_objectives=self._start_objectives,
        )


def solve_window(
    instance: Instance,
    state: WindowState,
    t_end: int,
    settings: ModelSettings,
    **options: Any,
) -> WindowResult:
    """Build, solve and read :class:`WindowModel` ``(instance, state, t_end, settings,
    **options)`` (its keyword options: ``start``, ``other_starts``, ``budget``, ``network``,
    ``coarse_start``, ``extra_functionality``)."""
    window = WindowModel(instance, state, t_end, settings, **options).build()
    report = window.solve()
    plan = window.read()
    return WindowResult(window.sets, window.model, plan, report, window.record(), window.solver)
