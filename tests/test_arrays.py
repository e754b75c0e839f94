"""The arrays path (``optimization/arrays.py``) is held to the Pyomo model, which stays the
definition: Pyomo's own ``LinearStandardFormCompiler`` output of ``build_model`` and the arrays must
have the same objective (vector and constant), matrix, row bounds, column bounds and integrality,
after mapping columns by variable name and index and putting rows in a canonical order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
from helpers import ideal_instance, job, random_instance
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from greenopt.feasibility import migration_time_s
from greenopt.files import load_instance
from greenopt.forecast import make_forecaster
from greenopt.instance import Site
from greenopt.network import Network
from greenopt.optimization import (
    JobState,
    ModelSettings,
    OptimizationError,
    WindowState,
    build_sets,
    solve_window,
)
from greenopt.optimization.array_solution import read_plan_vector, start_vector
from greenopt.optimization.arrays import ModelArrays, build_arrays
from greenopt.optimization.highs import ArraySolver, window_highs
from greenopt.optimization.model import build_model, deadline_slot, model_size
from greenopt.optimization.solution import read_plan, set_start, truncate_start
from greenopt.policies import make_policy
from greenopt.policies.milp import MilpPolicy
from greenopt.schedule import arrival_moment_h
from greenopt.simulation import simulate
from greenopt.state import builder_from_schedule, state_at

DEFAULT = Path(__file__).resolve().parents[1] / "instances" / "default"
#: Coefficients and bounds are computed in another order of floating-point operations.
RTOL = 1e-10


def canonical_rows(A, lower: np.ndarray, upper: np.ndarray) -> list[tuple]:
    """Every row as (kind, columns, coefficients, right-hand side) with ≥ rows turned into ≤ rows
    and equality rows scaled so their first coefficient is positive; sorted."""
    A = A.tocsr()
    A.sum_duplicates()
    A.eliminate_zeros()
    A.sort_indices()
    out = []
    for r in range(A.shape[0]):
        cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
        vals = A.data[A.indptr[r] : A.indptr[r + 1]].astype(float)
        lo, up = lower[r], upper[r]
        if lo == up:
            sign = 1.0 if vals[0] > 0 else -1.0
            kind, rhs = "=", lo * sign
        elif np.isinf(up):
            assert np.isfinite(lo)
            sign, kind, rhs = -1.0, "<=", -lo
        else:
            assert np.isinf(lo), "no ranged rows in this model"
            sign, kind, rhs = 1.0, "<=", up
        vals = vals * sign
        out.append((kind, tuple(cols.tolist()), vals, rhs))
    out.sort(key=lambda row: (row[0], row[1], tuple(np.round(row[2], 8)), round(row[3], 8)))
    return out


def pyomo_standard_form(model) -> dict:
    """Objective, matrix, row bounds, columns of ``model`` as Pyomo compiles it."""
    info = LinearStandardFormCompiler().write(model, mixed_form=True)
    rhs = np.asarray(info.rhs, float)
    kind = np.array([row.bound_type for row in info.rows])
    lower = np.where(kind == 1, -np.inf, rhs)
    upper = np.where(kind == -1, np.inf, rhs)
    return {
        "c": info.c.toarray()[0],
        "offset": float(info.c_offset[0]),
        "A": info.A,
        "lower": lower,
        "upper": upper,
        "columns": info.columns,
    }


def variable_key(v) -> tuple[str, tuple]:
    """(variable name, index as a tuple) of a Pyomo variable."""
    index = v.index()
    return v.parent_component().local_name, index if isinstance(index, tuple) else (index,)


def assert_same_model(arrays: ModelArrays, model) -> None:
    """The arrays equal Pyomo's standard form of ``model`` (see module docstring)."""
    ref = pyomo_standard_form(model)
    column = {key: i for i, key in enumerate(arrays.index.keys(arrays.sets))}
    perm = np.array([column[variable_key(v)] for v in ref["columns"]], int)
    assert len(set(perm.tolist())) == len(perm)
    # columns Pyomo leaves out (in no row and not in the objective) are empty here too
    unused = np.setdiff1d(np.arange(arrays.c.size), perm)
    A = arrays.A.tocsc()
    A.eliminate_zeros()
    assert np.all(np.diff(A.indptr)[unused] == 0)
    assert np.all(arrays.c[unused] == 0)
    # objective
    np.testing.assert_allclose(arrays.c[perm], ref["c"], rtol=RTOL, atol=1e-12)
    assert arrays.offset == pytest.approx(ref["offset"], rel=RTOL, abs=1e-12)
    # matrix and row bounds, rows in canonical order
    mine = canonical_rows(A[:, perm], arrays.row_lower, arrays.row_upper)
    theirs = canonical_rows(ref["A"], ref["lower"], ref["upper"])
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert a[0] == b[0] and a[1] == b[1], (a, b)
        np.testing.assert_allclose(a[2], b[2], rtol=RTOL, atol=1e-12)
        assert a[3] == pytest.approx(b[3], rel=RTOL, abs=1e-9)
    # column bounds and integrality, every column (also those Pyomo left out)
    variables = {variable_key(v): v for v in model.component_data_objects(pyo.Var)}
    by_key = [variables[key] for key in arrays.index.keys(arrays.sets)]
    lb = np.array([-np.inf if v.lb is None else v.lb for v in by_key], float)
    ub = np.array([np.inf if v.ub is None else v.ub for v in by_key], float)
    np.testing.assert_allclose(arrays.col_lower, lb, rtol=RTOL)
    np.testing.assert_allclose(arrays.col_upper, ub, rtol=RTOL)
    assert arrays.integrality.tolist() == [v.is_integer() for v in by_key]
    assert arrays.size() == model_size(model)


def midway_window(inst, t0: int, look: int, seed: int = 1):
    """A rolling window: the state ``feasibility_greedy``'s schedule leaves at ``t0``, on a noisy
    forecast issued at ``t0``."""
    schedule = make_policy("feasibility_greedy").plan(inst).schedule
    builder = truncate_start(builder_from_schedule(inst, schedule), t0)
    builder.run[:, t0:] = 0.0
    state = state_at(inst, builder, t0)
    view = inst.with_renewable(
        make_forecaster("noisy", 0.3, seed).forecast(inst.renewable_kw, t0, inst.dt_h)
    )
    return view, state, min(inst.n_slots, t0 + look)


def check(inst, state, t_end, coarse_start=None, **levers):
    settings = ModelSettings(**levers)
    sets = build_sets(
        inst,
        state,
        t_end,
        candidate_k=settings.candidate_sites,
        departure_every=settings.departure_every,
        feasibility_filter=settings.feasibility_filter,
        coarse_start=coarse_start,
        coarse_factor=settings.coarse_factor,
    )
    assert sets.arcs, "the window should hold migrations"
    assert_same_model(build_arrays(sets, settings), build_model(sets, settings))
    return sets


@pytest.mark.parametrize("delay_term", ["flow", "exact"])
@pytest.mark.parametrize("feasibility_filter", [True, False])
@pytest.mark.parametrize("seed", [3, 7])
def test_tiny_window_equals_the_pyomo_model(seed, feasibility_filter, delay_term):
    # seed 7: migrations arriving in a deadline's period before the deadline (missed_work terms)
    inst = random_instance(seed)
    sets = check(
        inst,
        WindowState.initial(inst),
        inst.n_slots,
        candidate_sites=0,
        departure_every=1,
        feasibility_filter=feasibility_filter,
        delay_term=delay_term,
    )
    arrays = build_arrays(sets, ModelSettings(delay_term=delay_term))
    deadline_rows = arrays.A.tocsr()[arrays.families["missed_work"]]
    mig_terms = np.count_nonzero(deadline_rows.indices < arrays.index.n_arcs)
    assert (mig_terms > 0) == (seed == 7)


def with_transfer_in_flight(inst, state: WindowState) -> WindowState:
    """``state`` with its first job at a site put in flight to the next site (left a slot ago)."""
    j = next(i for i, js in enumerate(state.jobs) if js.status == "at_site")
    a = state.jobs[j].site
    b = (a + 1) % len(inst.sites)
    route = Network(inst).route(inst.sites[a].site_id, inst.sites[b].site_id)
    transfer = migration_time_s(inst.params, inst.jobs[j].checkpoint_gb, route)
    moment = arrival_moment_h(state.t0 - 1, transfer, inst.dt_h)
    assert moment > state.t0 * inst.dt_h, "the transfer should reach into the window"
    flying = JobState("in_flight", b, moment, state.jobs[j].remaining_h, a, state.t0 - 1, transfer)
    return WindowState(state.t0, (*state.jobs[:j], flying, *state.jobs[j + 1 :]))


@pytest.mark.parametrize("delay_term", ["flow", "exact"])
@pytest.mark.parametrize("feasibility_filter", [True, False])
@pytest.mark.parametrize("coarse", [False, True])
def test_rolling_window_equals_the_pyomo_model(coarse, feasibility_filter, delay_term):
    # a midway state (jobs finished, at a site, pending), forecast renewables, deadlines inside the
    # window, optionally coarse periods after 2 h. Without the filter, 300 GB checkpoints on 1 Gbps
    # links fill the links (link rows) and one job is in flight (on these traces the filter leaves
    # no such move).
    inst = random_instance(4, n_slots=96)
    if not feasibility_filter:
        inst = replace(
            inst,
            jobs=tuple(replace(j, checkpoint_gb=300.0) for j in inst.jobs),
            links=tuple(replace(link, bandwidth_gbps=1.0) for link in inst.links),
        )
    view, state, t_end = midway_window(inst, 20, 48)
    expected = {"at_site", "pending", "finished"}
    if not feasibility_filter:
        state = with_transfer_in_flight(inst, state)
        expected.add("in_flight")
    assert {js.status for js in state.jobs} == expected
    settings = dict(feasibility_filter=feasibility_filter, delay_term=delay_term)
    sets = check(
        view,
        state,
        t_end,
        coarse_start=28 if coarse else None,
        candidate_sites=0,
        departure_every=2,
        **settings,
    )
    assert (len(sets.window) < t_end - 20) == coarse
    families = build_arrays(sets, ModelSettings(**settings)).families
    required = ["missed_work", "stay_after_arrival", "gpu_capacity"]
    for name in required + ([] if feasibility_filter else ["link_capacity"]):
        assert families[name].stop > families[name].start, name


@pytest.mark.slow
@pytest.mark.parametrize(
    ("levers", "coarse"),
    [
        ({}, False),
        ({"feasibility_filter": False, "delay_term": "exact"}, False),
        ({"candidate_sites": 0, "departure_every": 2}, True),
    ],
)
def test_default_instance_windows_equal_the_pyomo_model(levers, coarse):
    inst = load_instance(DEFAULT)
    if not coarse:
        check(inst, WindowState.initial(inst), inst.n_slots, **levers)
        return
    view, state, t_end = midway_window(inst, 96, 96)
    check(view, state, t_end, coarse_start=104, **levers)


# ---- MIP start, read-back, solve, parameter updates -------------------------------------------


def pyomo_values(arrays: ModelArrays, model) -> np.ndarray:
    """The Pyomo model's variable values as a column vector of ``arrays``."""
    variables = {variable_key(v): v for v in model.component_data_objects(pyo.Var)}
    return np.array([variables[k].value or 0.0 for k in arrays.index.keys(arrays.sets)], float)


@pytest.mark.parametrize("delay_term", ["flow", "exact"])
@pytest.mark.parametrize("coarse_start", [None, 24])
def test_start_vector_is_set_start_and_plans_read_back_alike(coarse_start, delay_term):
    inst = random_instance(7)
    settings = ModelSettings(
        candidate_sites=0, departure_every=1, coarse_factor=4, delay_term=delay_term
    )
    builder = builder_from_schedule(inst, make_policy("energy_greedy").plan(inst).schedule)
    cut = coarse_start or inst.n_slots
    required = tuple(
        (mv.job, mv.src, mv.dst, mv.depart_slot)
        for mv in builder.migrations
        if mv.depart_slot < cut
    )
    assert required
    sets = build_sets(
        inst,
        WindowState.initial(inst),
        inst.n_slots,
        required_moves=required,
        coarse_start=coarse_start,
        coarse_factor=4,
        feasibility_filter=False,
    )
    model, arrays = build_model(sets, settings), build_arrays(sets, settings)
    set_start(model, sets, builder)
    x = start_vector(arrays, builder)
    np.testing.assert_allclose(x, pyomo_values(arrays, model), rtol=1e-9, atol=1e-12)
    assert arrays.objective_value(x) == pytest.approx(pyo.value(model.objective), rel=1e-12)
    # the start is feasible in the arrays too
    activity = arrays.A @ x
    assert np.all(activity >= arrays.row_lower - 1e-7) and np.all(
        activity <= arrays.row_upper + 1e-7
    )
    assert np.all(x >= arrays.col_lower - 1e-9) and np.all(x <= arrays.col_upper + 1e-9)
    # a solution solved by the arrays path reads back as read_plan reads it from the Pyomo model
    solver = ArraySolver(ModelSettings(mip_rel_gap=0.0))
    solver.load(arrays, x)
    solver.solve(20.0, warm_start=True)
    variables = list(model.component_data_objects(pyo.Var))
    column = {k: i for i, k in enumerate(arrays.index.keys(sets))}
    for v in variables:
        v.set_value(float(solver.x[column[variable_key(v)]]), skip_validation=True)
    ours, theirs = read_plan_vector(arrays, solver.x), read_plan(model, sets)
    assert ours.t0 == theirs.t0 and ours.arcs == theirs.arcs
    np.testing.assert_array_equal(ours.site, theirs.site)
    np.testing.assert_array_equal(ours.run, theirs.run)


@pytest.mark.parametrize("delay_term", ["flow", "exact"])
@pytest.mark.parametrize("seed", [3, 7])
def test_both_backends_reach_the_same_optimum(seed, delay_term):
    inst = random_instance(seed)
    results = {}
    for backend in ("arrays", "pyomo"):
        policy = MilpPolicy(
            backend=backend,
            candidate_sites=0,
            departure_every=1,
            delay_term=delay_term,
            mip_rel_gap=0.0,
            time_limit_s=30.0,
        )
        out = policy.plan(inst)
        sim = simulate(inst, out.schedule)
        assert sim.valid, sim.violations
        assert out.info["backend"] == backend
        assert out.info["solver_status"] == "optimal"
        assert out.info["objective_recomputed"] == pytest.approx(out.info["objective"], rel=1e-7)
        results[backend] = out.info
    a, p = results["arrays"], results["pyomo"]
    assert a["objective"] == pytest.approx(p["objective"], rel=1e-7, abs=1e-7)
    assert a["start_objectives"] == pytest.approx(p["start_objectives"], rel=1e-9)
    for key in ("n_variables", "n_constraints", "n_binaries", "start", "warm_start_used"):
        assert a[key] == p[key], key


def test_parameter_update_gives_the_model_built_with_the_new_values():
    inst = random_instance(4, n_slots=96)
    view, state, t_end = midway_window(inst, 20, 48)
    settings = ModelSettings(candidate_sites=0, departure_every=2, delay_term="exact")
    sets = build_sets(view, state, t_end, candidate_k=0, departure_every=2)
    arrays = build_arrays(sets, settings)
    solver = ArraySolver(settings)
    solver.load(arrays)
    first = solver.solve(20.0, warm_start=False)
    par = arrays.params
    new = replace(
        par,
        R=par.R * 0.5,
        rem=par.rem * 0.8,
        at_entry=np.roll(par.at_entry, 1, axis=1) * (par.at_entry.sum(axis=1) > 0)[:, None],
    )
    solver.update_parameters(new)
    fresh = build_arrays(sets, settings, new)
    lp = solver.highs.getLp()
    np.testing.assert_array_equal(lp.col_cost_, fresh.c)
    assert lp.offset_ == fresh.offset != arrays.offset
    np.testing.assert_array_equal(lp.col_upper_, fresh.col_upper)
    np.testing.assert_array_equal(lp.row_lower_, fresh.row_lower)
    np.testing.assert_array_equal(lp.row_upper_, fresh.row_upper)
    matrix = lp.a_matrix_
    np.testing.assert_array_equal(matrix.start_, fresh.A.indptr)
    np.testing.assert_array_equal(matrix.index_, fresh.A.indices)
    np.testing.assert_array_equal(matrix.value_, fresh.A.data)
    second = solver.solve(20.0, warm_start=False)
    again = ArraySolver(settings)
    again.load(fresh)
    assert second.objective == pytest.approx(again.solve(20.0, False).objective, rel=1e-6)
    assert second.objective != pytest.approx(first.objective, rel=1e-3)


def test_lp_relaxation_and_an_infeasible_model_through_the_arrays_path():
    # A-B-C in a line, T_mig = 0.1 h per move (Δ = 1 h): A→B departing at slot 0 lands inside
    # slot 0, so the job may not leave B at the start of slot 0; forcing both moves is infeasible.
    inst = ideal_instance(
        {"A": [0, 0], "B": [0, 0], "C": [5, 5]},
        [job(checkpoint_gb=360)],
        links=[("A", "B", 8.0), ("B", "C", 8.0)],
    )
    settings = ModelSettings(feasibility_filter=False)
    sets = build_sets(inst, WindowState.initial(inst), inst.n_slots, feasibility_filter=False)
    arrays, highs = window_highs(sets, settings, integral=False)
    lp = highs.getLp()
    assert lp.num_col_ == arrays.c.size and arrays.integrality.any()
    assert all(v == highspy.HighsVarType.kContinuous for v in lp.integrality_)
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    chain = [
        x for x, a in enumerate(sets.arcs) if (a.src, a.dst, a.depart) in [(0, 1, 0), (1, 2, 0)]
    ]
    assert len(chain) == 2
    arrays.col_lower[chain] = 1.0
    solver = ArraySolver(settings)
    solver.load(arrays)
    with pytest.raises(OptimizationError, match="infeasible"):
        solver.solve(5.0, warm_start=False)


@pytest.mark.parametrize("delay_term", ["flow", "exact"])
def test_deadlines_next_to_the_entry_period_and_site_overheads_equal_the_pyomo_model(delay_term):
    # Δ = 1 h, A–B at 8 Gbps (360 GB: 0.1 h a move), no filter so every move is an arc; pue, idle
    # power, slowdown_weight and deadline_price away from the values of the other windows (1, 0,
    # the default 1 and 100), so the model must read each. Deadline period k and entry
    # slot e of each job: "next" k = e + 1 = 1 (the bound before k reads cum[j, e]); "late" enters
    # at slot 1 with k = 2 = e + 1; "same" is ready at 0.5 h with its deadline 0.8 h in its entry
    # period (k = e = 0: the end-of-period bound reads cum[j, e]).
    sites = [
        Site("A", gpus=4, renewable_kw=1.0, profile="pA", pue=1.25, idle_kw=0.5),
        Site("B", gpus=4, renewable_kw=1.0, profile="pB", pue=1.5, idle_kw=0.2),
    ]
    inst = ideal_instance(
        sites,
        [
            job("next", checkpoint_gb=360, deadline_h=1.5),
            job("late", checkpoint_gb=360, arrival_h=1.0, deadline_h=2.5),
            job("same", checkpoint_gb=360, arrival_h=0.5, deadline_h=0.8),
        ],
        [("A", "B", 8.0)],
        profiles={"pA": [0, 2, 0, 2], "pB": [2, 0, 2, 0]},
        slowdown_weight=0.3,
    )
    sets = check(
        inst,
        WindowState.initial(inst),
        inst.n_slots,
        candidate_sites=0,
        departure_every=1,
        feasibility_filter=False,
        delay_term=delay_term,
        deadline_price=7.0,
    )
    entry = {j: sets.entry[j].slot for j in sets.jobs}
    assert [(entry[j], deadline_slot(sets, j)) for j in sets.jobs] == [(0, 1), (1, 2), (0, 0)]


def test_runs_with_another_thread_count_in_one_process_still_solve():
    """HiGHS sizes its thread pool at the first run of a process and failed a later run asking for
    another size ("HiGHS stopped with unknown", so a rolling step fell back): both backends and the
    LP bound, one after the other with 2, 1 and 2 threads, each solve to the same optimum."""
    from greenopt.bounds import BoundSettings, lower_bound

    inst = ideal_instance({"A": [1.0, 0.0, 2.0], "B": [0.0, 2.0, 0.0]}, [job(work_h=1.0)])
    objectives = []
    for threads, backend in ((2, "arrays"), (1, "pyomo"), (2, "pyomo"), (1, "arrays")):
        settings = ModelSettings(candidate_sites=0, departure_every=1, mip_rel_gap=0.0,
                                 threads=threads, backend=backend)  # fmt: skip
        objectives.append(
            solve_window(inst, WindowState.initial(inst), 3, settings).report.objective
        )
        bound = lower_bound(inst, BoundSettings(method="lp", threads=3 - threads))
        assert bound.lower_bound is not None and bound.lower_bound <= objectives[-1] + 1e-6
    assert objectives == pytest.approx([objectives[0]] * 4)
