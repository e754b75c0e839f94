"""The offline MILP on tiny instances whose optimum is derived by hand, plus invariants.

Unless a test says otherwise: pue 1, idle 0, link_efficiency 1, checkpoint_overhead_s 0, so a
checkpoint of G GB over a B Gbps link takes T_mig = 8·G/B s; E_mig = transfer_endpoint_kw·T_mig
(network_kwh_per_gb 0). Every job draws 1 kW. Objective = grid kWh + E_mig + w·delay (+ terminal
and deadline penalties), with the flow delay Σ_t Δ·remaining_after_t / work_h from the arrival slot.
"""

from __future__ import annotations

import functools

import numpy as np
import pyomo.environ as pyo
import pytest
from helpers import ideal_instance, job, moves, random_instance, runs, solve
from pyomo.contrib.appsi.solvers import Highs

from greenopt.feasibility import WindowTable
from greenopt.network import Network
from greenopt.optimization import (
    JobState,
    ModelSettings,
    OptimizationError,
    WindowState,
    build_sets,
    objective_terms,
    schedule_objective,
    solve_window,
)
from greenopt.optimization.model import build_model
from greenopt.optimization.sets import PeriodGrid, WindowHours
from greenopt.optimization.solution import apply_plan, set_start, start_violations
from greenopt.optimization.solve import ModelSolver
from greenopt.policies import make_policy
from greenopt.policies.milp import MilpPolicy
from greenopt.schedule import ScheduleBuilder
from greenopt.simulation import simulate
from greenopt.state import builder_from_schedule, state_at

# ---- hand-derived optima ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delay_term", "delay"),
    # flow: remaining after slots 0..3 = 1.9, 1.0, 0, 0 → 2.9/1.9; exact: unfinished in slots 0, 1
    [("flow", 2.9 / 1.9), ("exact", 2 / 1.9)],
)
def test_job_migrates_to_catch_a_window(delay_term, delay):
    # A has no renewables; B has 5 kW in slots 1-2 (Δ = 1 h). T_mig = 8·360/8 = 360 s = 0.1 h,
    # E_mig = 1 kW · 0.1 h = 0.1 kWh. Departing at slot 0 arrives in slot 0 (window 0: infeasible);
    # departing at slot 1 arrives at 1.1 h (W = 2 h ≥ T_mig/alpha = 1 h, τ = 0.1 ≤ 2 − T_be 0.1):
    # 0.9 + 1.0 = 1.9 h of renewable computing = all the work. Any grid hour costs 1 kWh against a
    # delay saving ≤ 2·w/1.9 = 0.0105, so the optimum is that move alone:
    # objective = 0.1 + w·delay.
    inst = ideal_instance(
        {"A": [0, 0, 0, 0], "B": [0, 5, 5, 0]},
        [job(work_h=1.9, checkpoint_gb=360)],
        links=[("A", "B", 8.0)],
        transfer_endpoint_kw=1.0,
        slowdown_weight=0.01,
    )
    out, sim = solve(inst, delay_term=delay_term)
    assert moves(out) == [("j", 1, "A", "B")]
    assert runs(out) == [0.0, 0.9, 1.0]
    assert out.info["objective"] == pytest.approx(0.1 + 0.01 * delay, abs=1e-7)
    assert sim.metrics["nre_kwh"] == pytest.approx(0.1)
    assert sim.metrics["infeasible_migrations"] == 0


def test_move_into_too_short_window_is_filtered_unless_filter_is_off():
    # Δ = 0.5 h. The job arrives at 0.5 h (slot 1) at A (never renewable), work 0.5 h. B has 5 kW
    # in slot 2 only: a 0.5 h window, shorter than T_mig/alpha = 360 s / 0.1 = 1 h. Moves: d=1
    # arrives at 0.6 h in slot 1 (W = 0), d=2 in slot 2 (W = 0.5 h < 1 h), d=3 in slot 3 (W = 0):
    # none feasible. Filtered optimum: run slot 1 at A on the grid, 0.5 kWh, no delay.
    # Unfiltered: depart at slot 1, run the whole of slot 2 at B on renewables: E_mig 0.1 +
    # w·(0.5·0.5/0.5) = 0.1 + 0.005 (departing at slot 2 leaves only 0.4 h of slot 2: 0.1 kWh more).
    inst = ideal_instance(
        {"A": [0, 0, 0, 0], "B": [0, 0, 5, 0]},
        [job(work_h=0.5, arrival_h=0.5, checkpoint_gb=360)],
        links=[("A", "B", 8.0)],
        slot_minutes=30.0,
        transfer_endpoint_kw=1.0,
        slowdown_weight=0.01,
    )
    out, sim = solve(inst)
    assert moves(out) == []
    assert runs(out) == [1.0]
    assert out.info["objective"] == pytest.approx(0.5, abs=1e-7)
    assert out.info["n_binaries"] == 0

    out, sim = solve(inst, feasibility_filter=False)
    assert moves(out) == [("j", 1, "A", "B")]
    assert runs(out) == [0.0, 1.0]
    assert out.info["objective"] == pytest.approx(0.105, abs=1e-7)
    assert sim.metrics["infeasible_migrations"] == 1


@pytest.mark.parametrize(("gpus", "objective", "grid_kwh"), [(1, 1.01, 1.0), (2, 0.0, 0.0)])
def test_two_jobs_competing_for_one_gpu(gpus, objective, grid_kwh):
    # Two 1-h jobs at A, which has 2 kW of renewables in slot 0 only (Δ = 1 h). With 2 GPUs both
    # run in slot 0 for free. With 1 GPU, slot 0 holds one GPU-hour: one hour of work must run on
    # the grid in slot 1 (1 kWh) and one hour of work remains after slot 0 (flow delay 1·1/1):
    # 1 + w·1, w = 0.01, however the GPU is shared.
    inst = ideal_instance(
        {"A": [2, 0, 0]}, [job("j1"), job("j2")], gpus={"A": gpus}, slowdown_weight=0.01
    )
    out, sim = solve(inst)
    assert out.info["objective"] == pytest.approx(objective, abs=1e-7)
    a = out.schedule.assignment
    assert a[a.slot == 0].run_fraction.sum() == pytest.approx(gpus)
    assert sim.metrics["nre_kwh"] == pytest.approx(grid_kwh)


def test_two_migrations_share_a_link_so_one_waits():
    # Two 1-h jobs at A (no renewables) and B with 5 kW throughout (Δ = 1 h), alpha = 1. A
    # 300 GB checkpoint over 1 Gbps takes 2400 s = 2/3 h and puts all 300 GB in its departure
    # slot; the link carries 1·3600/8 = 450 GB per slot, so only one may depart per slot.
    # First mover (slot 0): computes 1/3 in slot 0, 2/3 in slot 1: remaining 2/3 → delay 2/3.
    # Second (slot 1): remaining 1, 2/3 → delay 5/3. Any grid hour costs 1 kWh ≫ delay gains, so
    # objective = w·(2/3 + 5/3) = 0.07/3 (both departing at 0 would give 0.04/3).
    inst = ideal_instance(
        {"A": [0, 0, 0, 0], "B": [5, 5, 5, 5]},
        [job("j1", checkpoint_gb=300), job("j2", checkpoint_gb=300)],
        links=[("A", "B", 1.0)],
        alpha=1.0,
        slowdown_weight=0.01,
    )
    out, sim = solve(inst)
    assert sorted(d for _, d, _, _ in moves(out)) == [0, 1]
    assert out.info["objective"] == pytest.approx(0.07 / 3, abs=1e-7)
    assert sim.metrics["nre_kwh"] == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("delay_term", ["flow", "exact"])
@pytest.mark.parametrize(
    ("weight", "expected_runs", "objective"),
    [
        (0.4, [0.0, 0.0, 1.0], 0.8),
        (0.6, [1.0], 1.0),
    ],
)
def test_slowdown_weight_flips_waiting_and_grid(delay_term, weight, expected_runs, objective):
    # One 1-h job at A, renewables only in slot 2. Running x in slot 0 and y in slot 1 (on the
    # grid) costs x + y + w·(2 − 2x − y) in both delay terms (the exact term counts slots 0 and 1
    # unless done, and a fractional run only helps if it completes): w < 1/2 waits (2w), w > 1/2
    # runs at once (1 kWh).
    inst = ideal_instance({"A": [0, 0, 5]}, [job()], slowdown_weight=weight)
    out, _ = solve(inst, delay_term=delay_term)
    assert runs(out) == expected_runs
    assert out.info["objective"] == pytest.approx(objective, abs=1e-7)


@pytest.mark.parametrize(
    ("deadline", "expected_runs", "objective", "misses"),
    [
        # Deadline 1.5 h: the hour must be done by then, on the grid (1 kWh): all of slot 0
        # (delay 0) beats half of slot 0 + the first half of slot 1 (delay w·0.5).
        (1.5, [1.0], 1.0, 0),
        # Deadline 0.5 h is unreachable: at most 0.5 h by then, 0.5 h missing (100 kWh/h → 50).
        # Run the first half of slot 0 on the grid (0.5 kWh), wait for slot 2 for the rest
        # (delay w·(0.5 + 0.5) = 0.01) — 50.51; running all of slot 0 costs 51.
        (0.5, [0.5, 0.0, 0.5], 50.51, 1),
    ],
)
def test_deadline(deadline, expected_runs, objective, misses):
    inst = ideal_instance({"A": [0, 0, 5]}, [job(deadline_h=deadline)], slowdown_weight=0.01)
    out, sim = solve(inst)
    assert runs(out) == expected_runs
    assert out.info["objective"] == pytest.approx(objective, abs=1e-7)
    assert sim.metrics["deadline_misses"] == misses


# ---- invariants ------------------------------------------------------------------------------


@pytest.mark.parametrize("feasibility_filter", [True, False])
def test_milp_beats_heuristics_and_respects_its_bound(feasibility_filter):
    inst = random_instance(3)
    heuristics = ["static", "pause_greedy", "feasibility_greedy", "energy_greedy"]
    out, sim = solve(
        inst, feasibility_filter=feasibility_filter, warm_start=heuristics, mip_rel_gap=0.0
    )
    settings = MilpPolicy.Settings(feasibility_filter=feasibility_filter)
    objective, bound = out.info["objective"], out.info["model_bound"]
    assert bound <= objective + 1e-6
    for name in heuristics:
        schedule = make_policy(name).plan(inst).schedule
        h_sim = simulate(inst, schedule)
        value = schedule_objective(inst, schedule, h_sim, settings)
        representable = feasibility_filter is False or h_sim.metrics["infeasible_migrations"] == 0
        if representable:
            assert objective <= value + 1e-6, name
            assert bound <= value + 1e-6, name
    if feasibility_filter:
        assert sim.metrics["infeasible_migrations"] == 0


def test_warm_start_is_a_feasible_point_with_the_heuristic_objective():
    inst = random_instance(5)
    settings = MilpPolicy.Settings(candidate_sites=1, departure_every=4)
    schedule = make_policy("feasibility_greedy").plan(inst).schedule
    builder = builder_from_schedule(inst, schedule)
    required = tuple((m.job, m.src, m.dst, m.depart_slot) for m in builder.migrations)
    assert required, "the instance should make the heuristic migrate"
    sets = build_sets(
        inst,
        WindowState.initial(inst),
        inst.n_slots,
        candidate_k=1,
        departure_every=4,
        required_moves=required,
    )
    model = build_model(sets, settings)
    set_start(model, sets, builder)
    assert start_violations(model) == []
    import pyomo.environ as pyo

    assert pyo.value(model.objective) == pytest.approx(
        objective_terms(inst, schedule, settings)["objective"], rel=1e-9
    )


def test_the_start_with_the_lowest_model_objective_is_chosen():
    # static, feasibility_greedy and energy_greedy as starts of the whole-horizon window: each
    # representable start's model objective is the heuristic's objective recomputed from its
    # schedule; energy_greedy's is None exactly when it makes moves infeasible on these traces.
    inst = random_instance(5)
    settings = ModelSettings(candidate_sites=1, departure_every=4, time_limit_s=10.0)
    names = ("static", "feasibility_greedy", "energy_greedy")
    schedules = [make_policy(name).plan(inst).schedule for name in names]
    builders = [builder_from_schedule(inst, schedule) for schedule in schedules]
    result = solve_window(
        inst,
        WindowState.initial(inst),
        inst.n_slots,
        settings,
        start=builders[0],
        other_starts=builders[1:],
    )
    expected = [objective_terms(inst, schedule, settings)["objective"] for schedule in schedules]
    if simulate(inst, schedules[2]).metrics["infeasible_migrations"] > 0:
        expected[2] = None
    assert result.info["start_objectives"] == pytest.approx(expected, rel=1e-9)
    values = [v for v in expected if v is not None]
    assert result.info["start"] == expected.index(min(values))
    assert result.info["objective"] <= min(values) + 1e-6


def test_window_from_a_midway_state_with_a_transfer_in_flight():
    # Window [1, 4) of a fixed slot 0 (Δ = 1 h). Job j (1 h of work) left A for B at slot 0 with a
    # 3960 GB checkpoint over 8 Gbps: 3960 s, landing at 1.1 h — in flight at the window start.
    # Job k arrived at A at 0.5 h and ran the rest of slot 0 (0.5 h left). B has 5 kW in slots
    # 1-2, A none. Optimum: j runs 0.9 of slot 1 and 0.1 of slot 2 at B; k moves to B at slot 1
    # (8 GB: 8 s, free) and finishes there within slot 1. No grid, no migration energy; delay
    # from slot 1 (j is in flight, not pending): j remaining 0.1, 0, 0 → w·0.1/1; k 0 → 0.001.
    inst = ideal_instance(
        {"A": [0, 0, 0, 0], "B": [0, 5, 5, 0]},
        [job("j", checkpoint_gb=3960), job("k", arrival_h=0.5, checkpoint_gb=8)],
        links=[("A", "B", 8.0)],
        slowdown_weight=0.01,
    )
    before = ScheduleBuilder(inst)
    before.add_migration(0, 0, 1, 3960.0)
    before.run[1, 0] = 0.5
    expected = WindowState(
        1,
        (
            JobState("in_flight", 1, 1.1, 1.0, src=0, depart_slot=0, transfer_s=3960.0),
            JobState("at_site", 0, 0.5, 0.5),
        ),
    )
    assert state_at(inst, before, 1) == expected
    settings = MilpPolicy.Settings(candidate_sites=0, departure_every=1)
    result = solve_window(inst, expected, inst.n_slots, settings)
    assert result.report.objective == pytest.approx(0.001, abs=1e-9)
    apply_plan(before, result.sets, result.plan)
    assert before.run.round(9).tolist() == [[0.0, 0.9, 0.1, 0.0], [0.5, 0.5, 0.0, 0.0]]
    assert [(m.job, m.depart_slot, m.dst) for m in before.migrations] == [(0, 0, 1), (1, 1, 1)]
    assert simulate(inst, before.to_schedule()).valid
    done = JobState("finished")
    assert state_at(inst, before, 3) == WindowState(3, (done, done))


def test_budget_used_up_by_building_is_refused():
    inst = random_instance(1)
    with pytest.raises(OptimizationError, match="no time left"):
        MilpPolicy(time_limit_s=1e-4, warm_start=()).plan(inst)


def test_settings_are_recorded_and_warm_start_parses_a_list():
    inst = random_instance(2)
    policy = MilpPolicy(warm_start="static, pause_greedy", candidate_sites=1, time_limit_s=10)
    assert policy.settings.warm_start == ("static", "pause_greedy")
    out = policy.plan(inst)
    for key in (
        "build_s",
        "solve_s",
        "model_gap",
        "model_bound",
        "objective",
        "solver_status",
        "termination",
        "n_variables",
        "n_binaries",
        "n_constraints",
        "candidate_sites",
        "departure_every",
        "delay_term",
        "feasibility_filter",
        "time_limit_s",
        "mip_rel_gap",
        "threads",
        "seed",
    ):
        assert key in out.info, key
    assert out.info["warm_start_used"] in ("static", "pause_greedy")
    assert out.info["objective"] <= out.info["warm_start_objective"] + 1e-6
    with pytest.raises(ValueError):
        MilpPolicy(no_such_setting=1)
    assert Network(inst).routes  # the random instance is connected


def test_no_departure_before_the_checkpoint_has_arrived():
    # A-B-C in a line, T_mig = 0.1 h per move (Δ = 1 h). A→B departing at slot 0 lands at 0.1 h,
    # inside slot 0, so the job may not leave B at the start of slot 0 (before it got there):
    # forcing both moves makes the model infeasible.
    inst = ideal_instance(
        {"A": [0, 0], "B": [0, 0], "C": [5, 5]},
        [job(checkpoint_gb=360)],
        links=[("A", "B", 8.0), ("B", "C", 8.0)],
    )
    settings = MilpPolicy.Settings(feasibility_filter=False)
    sets = build_sets(inst, WindowState.initial(inst), inst.n_slots, feasibility_filter=False)
    model = build_model(sets, settings)
    chain = [(0, 1, 0), (1, 2, 0)]  # (src, dst, depart) as site indices
    arcs = [x for x, a in enumerate(sets.arcs) if (a.src, a.dst, a.depart) in chain]
    assert len(arcs) == 2
    for x in arcs:
        model.mig[x].fix(1)
    solver = ModelSolver(settings)
    solver.load(model)
    with pytest.raises(OptimizationError, match="infeasible"):
        solver.solve(5.0, warm_start=False)


def knapsack_with_a_half_used_start() -> pyo.ConcreteModel:
    """max Σ v_i·x_i with x_i ≤ b_i, b binary, Σ w_i·b_i ≤ 17: optimum b = (0,0,0,1,1,1), x = b,
    objective −32 (by enumeration of the 64 b). The MIP start has the optimal b but x = b/2 (−16):
    presolve substitutes x = b, so HiGHS values the start at −32 in its reduced space."""
    w, v = [5, 7, 4, 3, 6, 8], [10, 13, 7, 6, 11, 15]
    items = range(len(w))
    m = pyo.ConcreteModel()
    m.b = pyo.Var(items, domain=pyo.Binary, initialize=lambda _m, i: float(i >= 3))
    m.x = pyo.Var(items, bounds=(0, 1), initialize=lambda _m, i: 0.5 * (i >= 3))
    m.use = pyo.Constraint(items, rule=lambda m, i: m.x[i] <= m.b[i])
    m.capacity = pyo.Constraint(expr=sum(w[i] * m.b[i] for i in items) <= 17)
    m.objective = pyo.Objective(expr=-sum(v[i] * m.x[i] for i in items))
    return m


def test_warm_start_with_suboptimal_continuous_values_loads_the_reported_optimum():
    # Given every start value, HiGHS 1.16 returned the start itself (−16) while reporting −32.
    m = knapsack_with_a_half_used_start()
    assert pyo.value(m.objective) == pytest.approx(-16)
    solver = ModelSolver(ModelSettings(mip_rel_gap=0.0))
    solver.load(m)
    report = solver.solve(5.0, warm_start=True)
    assert pyo.value(m.objective) == pytest.approx(-32)
    assert report.objective == report.solver_objective == pytest.approx(-32)
    assert [m.x[i].value for i in m.x] == pytest.approx([0, 0, 0, 1, 1, 1])


def test_report_gives_the_objective_of_the_loaded_solution():
    # appsi's own warm start (every value) makes HiGHS 1.16 return a solution other than the one
    # it reports; the report's objective and gap are those of what was loaded.
    m = knapsack_with_a_half_used_start()
    solver = ModelSolver(ModelSettings(mip_rel_gap=0.0))
    solver.solver._warm_start = functools.partial(Highs._warm_start, solver.solver)
    solver.load(m)
    report = solver.solve(5.0, warm_start=True)
    loaded = pyo.value(m.objective)
    assert report.objective == pytest.approx(loaded)
    assert report.solver_objective == pytest.approx(
        solver.solver._solver_model.getInfo().objective_function_value
    )
    assert report.model_bound == pytest.approx(-32)
    assert report.model_gap == pytest.approx((loaded + 32) / abs(loaded))


# ---- coarse periods further out in a window -----------------------------------------------------


def test_period_grid_cuts_the_window_into_fine_slots_then_coarse_periods():
    grid = PeriodGrid(10, 29, coarse_start=14, factor=4)
    assert grid.starts == [10, 11, 12, 13, 14, 18, 22, 26]
    assert [grid.length(p) for p in grid.starts] == [1, 1, 1, 1, 4, 4, 4, 3]
    assert (grid.period(13), grid.period(17), grid.period(28), grid.period(29)) == (13, 14, 26, 29)
    assert (grid.prev(10), grid.prev(14), grid.prev(18)) == (9, 13, 14)
    assert grid.usable(15.0, 14, 1.0) == 0.75  # 3 of the period's 4 slots remain
    assert grid.usable(11.5, 11, 1.0) == 0.5
    assert PeriodGrid(10, 29, coarse_start=14, factor=1).starts == list(range(10, 29))


@pytest.mark.parametrize(("coarse_start", "delay"), [(None, 1.5), (2, 1.25)])
def test_coarse_periods_weigh_energy_and_delay_by_their_length(coarse_start, delay):
    # constant 1 kW of renewables, a 4 h job arriving at 0: it runs slots 0-3 at no grid cost.
    # Flow delay Σ_t n_t·(4 − cum_t)/4 h: fine (3+2+1+0)/4 = 1.5; with periods [0],[1],[2,4),...
    # cum is counted at a period's end: (3 + 2 + 2·0)/4 = 1.25.
    inst = ideal_instance({"A": [1.0] * 8}, [job(work_h=4.0)], slowdown_weight=2.0)
    settings = ModelSettings(candidate_sites=0, departure_every=1, mip_rel_gap=0.0, coarse_factor=2)
    result = solve_window(inst, WindowState.initial(inst), 8, settings, coarse_start=coarse_start)
    assert result.report.objective == pytest.approx(2.0 * delay)
    assert result.info["n_periods"] == (8 if coarse_start is None else 5)
    np.testing.assert_allclose(result.plan.run[0], [1, 1, 1, 1, 0, 0, 0, 0])


@pytest.mark.parametrize("backend", ["arrays", "pyomo"])
def test_coarse_energy_uses_the_period_mean_and_only_fine_slots_can_be_applied(backend):
    # renewables 2,0,2,0 kW in slots 4-7, a 2 h job arriving at 4: the period [4,8) has mean 1 kW,
    # so running half of it (2 h of work) costs nothing in the coarse model.
    inst = ideal_instance({"A": [0.0] * 4 + [2.0, 0.0, 2.0, 0.0]}, [job(work_h=2.0, arrival_h=4)])
    settings = ModelSettings(
        candidate_sites=0, departure_every=1, mip_rel_gap=0.0, coarse_factor=4, backend=backend
    )
    result = solve_window(inst, WindowState.initial(inst), 8, settings, coarse_start=4)
    if backend == "pyomo":
        assert pyo.value(result.model.energy_kwh) == pytest.approx(0.0)
    else:
        grid_kw = result.solver.x[result.model.index.columns("g")]
        assert grid_kw == pytest.approx(np.zeros(grid_kw.size))
    np.testing.assert_allclose(result.plan.run[0, 4:], [0.5] * 4)
    builder = ScheduleBuilder(inst)
    apply_plan(builder, result.sets, result.plan, until=4)
    with pytest.raises(OptimizationError, match="coarse from 4"):
        apply_plan(ScheduleBuilder(inst), result.sets, result.plan, until=5)


def test_warm_start_on_a_coarse_grid_drops_later_moves_and_stays_feasible():
    inst = random_instance(2)
    builder = builder_from_schedule(inst, make_policy("energy_greedy").plan(inst).schedule)
    assert any(mv.depart_slot >= 8 for mv in builder.migrations)  # some moves to drop
    settings = ModelSettings(candidate_sites=0, departure_every=1, coarse_factor=4)
    required = tuple(
        (mv.job, mv.src, mv.dst, mv.depart_slot) for mv in builder.migrations if mv.depart_slot < 8
    )
    sets = build_sets(
        inst,
        WindowState.initial(inst),
        inst.n_slots,
        required_moves=required,
        coarse_start=8,
        coarse_factor=4,
        feasibility_filter=False,
    )
    model = build_model(sets, settings)
    set_start(model, sets, builder)
    assert start_violations(model, tol=1e-6) == []


def test_offline_milp_refuses_coarse_periods():
    with pytest.raises(ValueError, match="rolling windows"):
        MilpPolicy(coarsen_after_h=2.0)


def test_window_hours_of_the_window_jobs_equal_the_full_window_table():
    inst = random_instance(4)
    full = WindowTable(inst).hours
    part = WindowHours(inst, [1, 3], t0=20)
    for j in (1, 3):
        for b in range(len(inst.sites)):
            assert [part[j, b, t] for t in range(20, inst.n_slots)] == full[j, b, 20:].tolist()
    with pytest.raises(IndexError):
        part[1, 0, 19]
