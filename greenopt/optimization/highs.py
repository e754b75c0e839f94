"""The ``arrays`` backend's HiGHS side: :class:`~greenopt.optimization.arrays.ModelArrays` handed to
``highspy`` in one ``passModel`` call (:func:`highs_model`), solved with an integer-only MIP start
and read back as a column vector (:class:`ArraySolver`, the counterpart of
:class:`~greenopt.optimization.solve.ModelSolver`)."""

from __future__ import annotations

import math
import os
import sys
import time
from typing import TYPE_CHECKING

import highspy
import numpy as np

from greenopt.optimization.arrays import ModelArrays, WindowParameters, build_arrays
from greenopt.optimization.highs_watch import watch_highs
from greenopt.optimization.sets import OptimizationError, WindowSets
from greenopt.optimization.settings import ModelSettings

if TYPE_CHECKING:
    from greenopt.optimization.solve import SolveReport

#: HiGHS model status -> the termination names appsi reports (so both backends record the same).
TERMINATION = {
    "kOptimal": "optimal",
    "kTimeLimit": "maxTimeLimit",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasibleOrUnbounded",
    "kUnbounded": "unbounded",
    "kObjectiveBound": "objectiveLimit",
    "kObjectiveTarget": "objectiveLimit",
    "kIterationLimit": "maxIterations",
    "kSolutionLimit": "maxIterations",
    "kInterrupt": "interrupted",
    "kHighsInterrupt": "interrupted",
}


#: The thread count of the process' HiGHS thread pool (None: no run yet).
_pool_threads: int | None = None


def use_threads(threads: int) -> None:
    """Make the next HiGHS run in this process able to use ``threads`` threads. HiGHS sizes one
    thread pool per process at its first run and fails a later run that asks for another size
    (status "unknown", no solution), so the pool is reset whenever the count changes."""
    global _pool_threads
    if _pool_threads is not None and threads != _pool_threads:
        highspy.Highs.resetGlobalScheduler(True)
    _pool_threads = threads


def new_highs(threads: int, log: bool = False) -> highspy.Highs:
    """A HiGHS instance for runs on ``threads`` threads (:func:`use_threads`), silent unless
    ``log``: without the banner HiGHS prints to the process' stdout on creation, which would mix
    with a command's own output."""
    use_threads(threads)
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            if not log:
                os.dup2(null.fileno(), 1)
            highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    highs.setOptionValue("output_flag", log)
    highs.setOptionValue("threads", threads)
    return highs


def highs_model(
    arrays: ModelArrays, integral: bool = True, options: dict | None = None
) -> highspy.Highs:
    """A quiet HiGHS instance (:func:`new_highs`, ``threads`` from ``options``, default 1)
    holding the model (an LP relaxation if not ``integral``), with ``options`` set."""
    options = dict(options or {})
    highs = new_highs(int(options.pop("threads", 1)))
    for name, value in options.items():
        highs.setOptionValue(name, value)
    A = arrays.A
    integrality = arrays.integrality if integral else np.zeros_like(arrays.integrality)
    status = highs.passModel(
        int(A.shape[1]),
        int(A.shape[0]),
        int(A.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        float(arrays.offset),
        np.ascontiguousarray(arrays.c, float),
        np.ascontiguousarray(arrays.col_lower, float),
        np.ascontiguousarray(arrays.col_upper, float),
        np.ascontiguousarray(arrays.row_lower, float),
        np.ascontiguousarray(arrays.row_upper, float),
        A.indptr.astype(np.int32),
        A.indices.astype(np.int32),
        np.ascontiguousarray(A.data, float),
        integrality.astype(np.int32),
    )
    if status != highspy.HighsStatus.kOk:
        raise OptimizationError(f"HiGHS refused the model ({status})")
    return highs


def window_highs(
    sets: WindowSets, settings: ModelSettings, integral: bool = True
) -> tuple[ModelArrays, highspy.Highs]:
    """The window model of ``sets`` as arrays and loaded into HiGHS (LP relaxation if not
    ``integral``; ``settings``' threads and seed), for callers that drive HiGHS themselves."""
    arrays = build_arrays(sets, settings)
    options = {"threads": settings.threads, "random_seed": settings.seed}
    return arrays, highs_model(arrays, integral, options)


class ArraySolver:
    """HiGHS bound to one window's arrays; :meth:`solve` may be called again after
    :meth:`update_parameters`. After a solve, ``x`` holds the best solution's column values.
    (``solve.py`` imports this module, so this one imports ``solve`` where it is used.)"""

    def __init__(self, settings: ModelSettings):
        self.settings = settings
        self.arrays: ModelArrays | None = None
        self.highs: highspy.Highs | None = None
        #: MIP start (column values; only the integer ones are passed)
        self.start: np.ndarray | None = None
        self.x: np.ndarray | None = None

    def load(self, arrays: ModelArrays, start: np.ndarray | None = None) -> None:
        """Hand the arrays to HiGHS (part of building) and remember the MIP start."""
        s = self.settings
        options = {
            "threads": s.threads,
            "random_seed": s.seed,
            "mip_rel_gap": s.mip_rel_gap,
            "output_flag": s.solver_log,
            "log_to_console": s.solver_log,
        }
        self.highs = highs_model(arrays, options=options)
        self.arrays, self.start = arrays, start

    def update_parameters(self, params: WindowParameters) -> float:
        """Give the model new parameter values (R, rem, at_entry): the arrays are rebuilt and only
        what changed — bounds, costs, offset, coefficients — is pushed to HiGHS; returns seconds
        taken."""
        started = time.perf_counter()
        old, highs = self.arrays, self.highs
        if old is None or highs is None:
            raise OptimizationError("no model loaded")
        new = build_arrays(old.sets, self.settings, params)
        if not (
            np.array_equal(new.A.indptr, old.A.indptr)
            and np.array_equal(new.A.indices, old.A.indices)
        ):
            raise OptimizationError("new parameters changed the model's structure")
        cols = np.flatnonzero((new.col_lower != old.col_lower) | (new.col_upper != old.col_upper))
        if cols.size:
            highs.changeColsBounds(
                cols.size, cols.astype(np.int32), new.col_lower[cols], new.col_upper[cols]
            )
        rows = np.flatnonzero((new.row_lower != old.row_lower) | (new.row_upper != old.row_upper))
        if rows.size:
            highs.changeRowsBounds(
                rows.size, rows.astype(np.int32), new.row_lower[rows], new.row_upper[rows]
            )
        costs = np.flatnonzero(new.c != old.c)
        if costs.size:
            highs.changeColsCost(costs.size, costs.astype(np.int32), new.c[costs])
        if new.offset != old.offset:
            highs.changeObjectiveOffset(new.offset)
        changed = np.flatnonzero(new.A.data != old.A.data)
        if changed.size:
            col_of = np.repeat(np.arange(new.A.shape[1]), np.diff(new.A.indptr))
            for i in changed:
                highs.changeCoeff(int(new.A.indices[i]), int(col_of[i]), float(new.A.data[i]))
        self.arrays = new
        return time.perf_counter() - started

    def solve(self, time_limit_s: float, warm_start: bool) -> SolveReport:
        """Run HiGHS for at most ``time_limit_s`` seconds, from the start's integer values if
        ``warm_start`` (HiGHS completes the continuous ones, see ``solve.IntegerStartHighs``);
        keep the best solution in ``x`` and report its objective."""
        from greenopt.optimization.solve import MIN_SOLVE_S, SolveReport, no_time_left

        highs, arrays = self.highs, self.arrays
        if highs is None or arrays is None:
            raise OptimizationError("no model loaded")
        if time_limit_s < MIN_SOLVE_S:
            raise no_time_left(self.settings)
        highs.setOptionValue("time_limit", float(time_limit_s))
        if warm_start and self.start is not None:
            columns = np.flatnonzero(arrays.integrality).astype(np.int32)
            if columns.size:
                highs.setSolution(columns.size, columns, self.start[columns].astype(float))
        started = time.perf_counter()
        # a signal in here stops HiGHS through its callbacks, then raises (highs_watch)
        use_threads(self.settings.threads)
        with watch_highs(highs):
            highs.run()
        solve_s = time.perf_counter() - started
        status = highs.getModelStatus()
        term = TERMINATION.get(status.name, "unknown")
        solution = highs.getSolution()
        info = highs.getInfo()
        has_solution = term == "optimal" or (term == "maxTimeLimit" and solution.value_valid)
        if term == "optimal":
            report_status = "optimal"
        elif term == "maxTimeLimit" and has_solution:
            report_status = "time_limit"
        elif term == "maxTimeLimit":
            raise OptimizationError(
                f"HiGHS found no schedule within {time_limit_s:.1f} s (no incumbent)"
            )
        elif term in ("infeasible", "infeasibleOrUnbounded"):
            raise OptimizationError(f"the model is {term} — a modelling error or bad state")
        else:
            raise OptimizationError(f"HiGHS stopped with {term}")
        self.x = np.asarray(solution.col_value, float)
        objective = arrays.objective_value(self.x)
        bound = info.mip_dual_bound if info.mip_node_count != -1 else info.objective_function_value
        bound = None if bound is None or not math.isfinite(bound) else float(bound)
        gap = None if bound is None else max(0.0, objective - bound) / max(abs(objective), 1e-9)
        return SolveReport(
            report_status,
            term,
            objective,
            bound,
            gap,
            solve_s,
            float(info.objective_function_value),
        )
