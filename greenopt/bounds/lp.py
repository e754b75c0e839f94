"""The LP relaxation of the full model: every candidate site, a departure at every slot, binaries
relaxed to [0, 1], on the actual traces from the initial state.

Why it is a lower bound: every valid schedule whose migrations are feasible (SPEC §3; every valid
schedule without the filter) is a point of the full MILP (:mod:`greenopt.optimization.model`) whose
model objective is at most the schedule's :func:`~greenopt.optimization.objective.objective_terms`
score (equal energy, migration, delay and terminal terms; the model's missed deadline work is a
lower bound of the schedule's); the LP relaxation's optimum is at most the MILP's optimum.

The figure reported is not HiGHS' primal objective but the **dual objective of the row duals it
returns**: for any row prices y (signs clipped to each row's finite sides) and the column boxes,

    L(y) = Σ_i (y_i⁺·L_i − y_i⁻·U_i) + Σ_k min(d_k·l_k, d_k·u_k),   d = c − Aᵀy,

is at most the LP optimum (Lagrangian duality with the rows priced), whatever the solver's status —
an interior point run stopped early or without crossover, PDLP, or a simplex run cut short still
give a valid bound; at an optimal basis it equals the LP value. Columns without an upper bound
(grid power g, missed work) get the implied bounds every optimum satisfies (g ≤ idle + pue·Σ_j
power_j, missed work ≤ rem_j + Δ), so a slightly negative reduced cost costs a little, not −∞.

The matrix comes from Pyomo's ``LinearStandardFormCompiler`` (:func:`lp_arrays`); a faster array
path can replace that one function.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from scipy import sparse

from greenopt.instance import Instance
from greenopt.optimization.highs import new_highs
from greenopt.optimization.highs_watch import watch_highs
from greenopt.optimization.model import build_model
from greenopt.optimization.sets import WindowSets, build_sets
from greenopt.optimization.settings import ModelSettings
from greenopt.state import WindowState


@dataclass
class LpArrays:
    """min c·x + offset s.t. row_lower ≤ A x ≤ row_upper, col_lower ≤ x ≤ col_upper."""

    c: np.ndarray
    offset: float
    A: sparse.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    #: finite upper bounds implied at every optimum, for columns with none (else +inf)
    implied_upper: np.ndarray


def full_sets(instance: Instance, feasibility_filter: bool) -> WindowSets:
    """Sparse sets of the unrestricted problem: every connected site, every departure slot."""
    return build_sets(
        instance,
        WindowState.initial(instance),
        instance.n_slots,
        candidate_k=0,
        departure_every=1,
        feasibility_filter=feasibility_filter,
    )


def model_settings(settings: Any) -> ModelSettings:
    """The model settings with the bound's objective (delay term, prices, filter)."""
    return ModelSettings(
        candidate_sites=0,
        departure_every=1,
        delay_term=settings.delay_term,
        feasibility_filter=settings.feasibility_filter,
        terminal_price=settings.terminal_price,
        deadline_price=settings.deadline_price,
    )


def implied_upper_bound(var: Any, sets: WindowSets) -> float:
    """An upper bound every optimum satisfies, for the model's unbounded columns (g, miss)."""
    inst = sets.instance
    name = var.parent_component().local_name
    if name == "g":
        s = var.index()[0]
        site = inst.sites[s]
        return site.idle_kw + site.pue * sum(j.power_kw for j in inst.jobs)
    if name == "miss":
        return sets.entry[var.index()].remaining_h + inst.dt_h
    return np.inf


def lp_arrays(sets: WindowSets, settings: ModelSettings) -> LpArrays:
    """The model of ``sets`` as arrays (binaries relaxed), via Pyomo's standard-form compiler."""
    model = build_model(sets, settings)
    info = LinearStandardFormCompiler().write(model, mixed_form=True)
    n_rows = len(info.rows)
    rhs = np.asarray(info.rhs, float)
    sense = np.array([mult for _, mult in info.rows], int)
    row_lower = np.where(sense >= 0, -np.inf, rhs)
    row_upper = np.where(sense <= 0, np.inf, rhs)
    equal = sense == 0
    row_lower[equal] = rhs[equal]
    row_upper[equal] = rhs[equal]
    columns = info.columns
    lower = np.array([-np.inf if v.lb is None else pyo.value(v.lb) for v in columns], float)
    upper = np.array([np.inf if v.ub is None else pyo.value(v.ub) for v in columns], float)
    implied = np.array(
        [
            implied_upper_bound(v, sets) if np.isinf(u) else u
            for v, u in zip(columns, upper, strict=True)
        ],
        float,
    )
    c = np.asarray(info.c.toarray()).ravel() if info.c.shape[0] else np.zeros(len(columns))
    offset = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    A = sparse.csc_array(info.A) if n_rows else sparse.csc_array((0, len(columns)))
    return LpArrays(c, offset, A, row_lower, row_upper, lower, upper, implied)


def dual_objective(arrays: LpArrays, row_dual: np.ndarray) -> float:
    """L(y) of the module docstring: a lower bound on the LP optimum for any row prices y."""
    y = np.asarray(row_dual, float)
    y = np.where(np.isfinite(arrays.row_lower), np.maximum(y, 0), 0) + np.where(
        np.isfinite(arrays.row_upper), np.minimum(y, 0), 0
    )
    rows = np.where(y > 0, y * np.nan_to_num(arrays.row_lower, neginf=0.0), 0.0) + np.where(
        y < 0, y * np.nan_to_num(arrays.row_upper, posinf=0.0), 0.0
    )
    d = arrays.c - arrays.A.T @ y
    upper = np.where(np.isfinite(arrays.col_upper), arrays.col_upper, arrays.implied_upper)
    lower = arrays.col_lower
    with np.errstate(invalid="ignore"):
        cols = np.minimum(np.where(d > 0, d * lower, 0.0), np.where(d < 0, d * upper, 0.0))
    cols = np.where(d == 0, 0.0, cols)
    return float(rows.sum() + cols.sum() + arrays.offset)


def solve_lp(
    arrays: LpArrays, algorithm: str, time_limit_s: float, threads: int, seed: int, log: bool
) -> dict[str, Any]:
    """Run HiGHS on the arrays; return the valid bound (:func:`dual_objective`) and its figures."""
    h = new_highs(threads, log)
    h.setOptionValue("log_to_console", log)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(arrays.c), len(arrays.row_lower)
    lp.col_cost_ = arrays.c
    lp.offset_ = arrays.offset
    lp.col_lower_, lp.col_upper_ = arrays.col_lower, arrays.col_upper
    lp.row_lower_, lp.row_upper_ = arrays.row_lower, arrays.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = arrays.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = arrays.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = arrays.A.data.astype(float)
    h.passModel(lp)
    options = {
        "time_limit": float(max(time_limit_s, 0.1)),
        "threads": threads,
        "random_seed": seed,
        "solver": {"simplex": "simplex", "ipm": "ipm", "pdlp": "pdlp"}[algorithm],
    }
    if algorithm == "ipm":
        options["run_crossover"] = "off"
    for key, value in options.items():
        h.setOptionValue(key, value)
    started = time.perf_counter()
    with watch_highs(h, "LP bound"):  # a signal stops HiGHS, then raises (highs_watch)
        h.run()
    solve_s = time.perf_counter() - started
    status = h.getModelStatus()
    info = h.getInfo()
    solution = h.getSolution()
    bound = None
    if solution.dual_valid:
        bound = dual_objective(arrays, np.asarray(solution.row_dual, float))
    primal = float(info.objective_function_value) if solution.value_valid else None
    return {
        "lower_bound": bound,
        "lp_status": h.modelStatusToString(status),
        "lp_primal_objective": primal,
        "lp_solve_s": solve_s,
        "lp_algorithm": algorithm,
        "simplex_iterations": int(info.simplex_iteration_count),
        "ipm_iterations": int(info.ipm_iteration_count),
        "pdlp_iterations": int(getattr(info, "pdlp_iteration_count", 0)),
        "lp_columns": len(arrays.c),
        "lp_rows": len(arrays.row_lower),
        "lp_nonzeros": int(arrays.A.nnz),
    }


def lp_bound(instance: Instance, settings: Any, deadline: float) -> dict[str, Any]:
    """The LP bound of the full model (module docstring); ``deadline``: perf_counter time by which
    HiGHS must stop."""
    started = time.perf_counter()
    sets = full_sets(instance, settings.feasibility_filter)
    sets_s = time.perf_counter() - started
    arrays = lp_arrays(sets, model_settings(settings))
    build_s = time.perf_counter() - started
    result = solve_lp(
        arrays,
        settings.lp_algorithm,
        deadline - time.perf_counter(),
        settings.threads,
        settings.seed,
        settings.solver_log,
    )
    return {"sets_s": sets_s, "build_s": build_s, "n_arcs": len(sets.arcs), **result}
