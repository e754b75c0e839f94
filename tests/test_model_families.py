"""One hand-derived test per constraint family and lever of the scheduling MILP that no other test
pins down, each on an instance small enough to solve on paper.

Conventions as in test_milp.py (:func:`helpers.ideal_instance`): Δ = 1 h unless said otherwise,
pue 1, idle 0, no checkpoint overhead, link efficiency 1, every job draws 1 kW; a checkpoint of
G GB over B Gbps takes T_mig = 8·G/B s and costs E_mig = transfer_endpoint_kw·T_mig. A 360 GB
checkpoint over 8 Gbps takes 360 s = 0.1 h.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from helpers import ideal_instance, job, moves, runs, solve

from greenopt.instance import Site
from greenopt.optimization import (
    JobState,
    ModelSettings,
    OptimizationError,
    WindowState,
    build_sets,
    solve_window,
)
from greenopt.optimization.model import build_model
from greenopt.optimization.solve import ModelSolver

W = 0.01  # slowdown weight of most tests: a grid hour (1 kWh) outweighs any delay it saves


def arc_index(sets, src: int, dst: int, depart: int) -> int:
    (x,) = [x for x, a in enumerate(sets.arcs) if (a.src, a.dst, a.depart) == (src, dst, depart)]
    return x


def maximise(model: pyo.ConcreteModel, expr, settings: ModelSettings) -> float:
    """Replace the objective by max ``expr`` and solve; the optimum (OptimizationError if none)."""
    model.del_component(model.objective)
    model.objective = pyo.Objective(expr=expr, sense=pyo.maximize)
    solver = ModelSolver(settings)
    solver.load(model)
    return solver.solve(5.0, warm_start=False).objective


def three_sites_in_a_line():
    """A–B–C, 8 Gbps links, no renewables; one job at A with a 360 GB checkpoint (0.1 h a move)."""
    return ideal_instance(
        {"A": [0, 0], "B": [0, 0], "C": [0, 0]},
        [job(checkpoint_gb=360)],
        [("A", "B", 8.0), ("B", "C", 8.0)],
    )


# ---- constraint families ------------------------------------------------------------------------


def test_departure_after_arrival_keeps_the_lp_relaxation_from_leaving_before_arriving():
    """LP relaxation with the move A→B at slot 0 fixed: it lands at 0.1 h (u = 0.9). Let
    y = mig[B→C at 0] and c = mig[C→B at 0], the only other arc into B in slot 0 (A→C at 0 is 0,
    as the whole job leaves A for B). Flow: loc[B,0] = 1 + c − y − mig[B→A at 0] and
    loc[C,0] = y − c ≥ 0. departure_after_arrival asks loc[B,0] ≥ 1 + c, so max y = 0: no share
    of the job leaves B before its checkpoint is there, as in the integer model. run_limit alone
    only asks loc[B,0] ≥ 0.1·(1 + c), which lets y be positive."""
    inst = three_sites_in_a_line()
    settings = ModelSettings(candidate_sites=0, departure_every=1, feasibility_filter=False)
    sets = build_sets(inst, WindowState.initial(inst), 2, feasibility_filter=False)
    model = build_model(sets, settings)
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    model.mig[arc_index(sets, 0, 1, 0)].fix(1)
    assert maximise(model, model.mig[arc_index(sets, 1, 2, 0)], settings) == pytest.approx(0.0)


def test_completion_indicators_never_switch_back_off():
    """Exact delay term, one 1-h job at A with 5 kW in both slots. done[0] = 1 and done[1] = 0
    meets done_needs_work (cum = 1 h by slot 0 and after), but done_monotone (done[1] ≥ done[0])
    forbids it: the model is infeasible."""
    inst = ideal_instance({"A": [5, 5]}, [job()])
    settings = ModelSettings(candidate_sites=0, departure_every=1, delay_term="exact")
    sets = build_sets(inst, WindowState.initial(inst), 2)
    model = build_model(sets, settings)
    model.done[0, 0].fix(1)
    model.done[0, 1].fix(0)
    solver = ModelSolver(settings)
    solver.load(model)
    with pytest.raises(OptimizationError, match="infeasible"):
        solver.solve(5.0, warm_start=False)


def test_idle_power_comes_before_the_jobs_on_renewables():
    """A 1-h job at A, idle 0.5 kW, renewables 1 and 1.5 kW in slots 0-1. Only 0.5 kW of slot 0's
    renewables is left after idle: running x0 there costs max(0, x0 − 0.5) kWh, and slot 1 holds
    the rest for free. Optimum x = (0.5, 0.5): no grid energy, flow delay w·0.5 (without the
    idle power all of slot 0 would be free: delay 0)."""
    site = Site("A", gpus=1, renewable_kw=1.0, profile="p", pue=1.0, idle_kw=0.5)
    inst = ideal_instance([site], [job()], profiles={"p": [1.0, 1.5]}, slowdown_weight=W)
    out, sim = solve(inst)
    assert runs(out) == [0.5, 0.5]
    assert out.info["objective"] == pytest.approx(W * 0.5, abs=1e-7)
    assert sim.metrics["nre_kwh"] == pytest.approx(0.0, abs=1e-7)


def test_transfers_in_flight_at_the_window_start_keep_their_share_of_the_link():
    """Window [1, 4); A has no renewables, B 5 kW throughout; alpha 1; A–B at 1 Gbps carries
    450 GB per slot. Job j left A at slot 0 with 720 GB: 5760 s = 1.6 h, 450 GB in slot 0 and
    270 GB in slot 1, so 180 GB are left in slot 1. Job k (1 h of work, at A) needs to move its
    300 GB checkpoint (2400 s = 2/3 h, all in the departure slot): not at slot 1, so at slot 2,
    landing at 2 2/3 h and computing 1/3 + 2/3 h in slots 2-3. j computes 0.4 + 0.6 h in slots
    1-2. Flow delay from slot 1: k 1 + 2/3 + 0, j 0.6 + 0 + 0; objective w·(5/3 + 0.6)."""
    inst = ideal_instance(
        {"A": [0, 0, 0, 0], "B": [5, 5, 5, 5]},
        [job("j", checkpoint_gb=720), job("k", checkpoint_gb=300)],
        [("A", "B", 1.0)],
        alpha=1.0,
        slowdown_weight=W,
    )
    state = WindowState(
        1,
        (
            JobState("in_flight", 1, 1.6, 1.0, src=0, depart_slot=0, transfer_s=5760.0),
            JobState("at_site", 0, 0.0, 1.0),
        ),
    )
    settings = ModelSettings(candidate_sites=0, departure_every=1, mip_rel_gap=0.0)
    result = solve_window(inst, state, 4, settings)
    assert [(a.job, a.depart) for a in result.plan.arcs] == [(1, 2)]
    assert result.report.objective == pytest.approx(W * (5 / 3 + 0.6), abs=1e-9)


def test_a_checkpoint_landing_in_the_deadline_slot_computes_only_after_it_lands():
    """A 1-h job at A (no renewables) with deadline 1.5 h; B has 5 kW from slot 1, A–B moves take
    0.1 h and cost nothing (a move at slot 0 would land in slot 0, outside B's window:
    infeasible). Moving at slot 1 it lands at 1.1 h, so by the deadline it computes at most 0.4 h
    at B: x0 = 0.6 h must run at A in slot 0 on the grid. Objective 0.6 kWh + w·0.4 (remaining
    0.4 after slot 0); staying at A instead costs 1 kWh."""
    inst = ideal_instance(
        {"A": [0, 0, 0], "B": [0, 5, 5]},
        [job(checkpoint_gb=360, deadline_h=1.5)],
        [("A", "B", 8.0)],
        slowdown_weight=W,
    )
    out, sim = solve(inst)
    assert moves(out) == [("j", 1, "A", "B")]
    assert runs(out) == [0.6, 0.4]
    assert out.info["objective"] == pytest.approx(0.6 + W * 0.4, abs=1e-7)
    assert sim.metrics["deadline_misses"] == 0


@pytest.mark.parametrize(
    ("deadline_price", "expected_runs", "objective"),
    [
        (100.0, [1.0], 1.0),  # the hour must be done by 1.5 h: all of slot 0 on the grid
        (0.5, [0.0, 0.0, 1.0], 0.5 + W * 2),  # missing the hour costs less than the grid: wait
    ],
)
def test_deadline_price_weighs_missed_work_against_grid_energy(
    deadline_price, expected_runs, objective
):
    """A 1-h job at A, renewables only in slot 2, deadline 1.5 h. Grid computing before the
    deadline costs 1 kWh per hour; missing it costs deadline_price per hour. At 0.5 kWh/h the job
    waits for slot 2: 0.5 + w·(1 + 1)."""
    inst = ideal_instance({"A": [0, 0, 5]}, [job(deadline_h=1.5)], slowdown_weight=W)
    out, sim = solve(inst, deadline_price=deadline_price)
    assert runs(out) == expected_runs
    assert out.info["objective"] == pytest.approx(objective, abs=1e-7)


@pytest.mark.parametrize("backend", ["arrays", "pyomo"])
def test_a_coarse_period_has_the_mean_renewables_and_weighs_by_its_length(backend):
    """Slots 4-7 form one coarse period with renewables 0, 1, 0, 1 kW: mean 0.5 kW. A 3-h job
    arriving at 4 h runs r of each slot: cum = 4r ≤ 3, so r = 0.75 (a grid hour costs less than
    the terminal price 1 + w/3 of an hour left), drawing 4·(0.75 − 0.5) = 1 kWh from the grid.
    Its work is done at the period end: no delay. Objective 1 kWh (all of it grid energy)."""
    inst = ideal_instance({"A": [0.0] * 4 + [0, 1, 0, 1]}, [job(work_h=3.0, arrival_h=4)])
    settings = ModelSettings(
        candidate_sites=0, departure_every=1, mip_rel_gap=0.0, coarse_factor=4, backend=backend
    )
    result = solve_window(inst, WindowState.initial(inst), 8, settings, coarse_start=4)
    assert result.info["n_periods"] == 5
    assert result.plan.run[0, 4:].tolist() == pytest.approx([0.75] * 4)
    if backend == "pyomo":
        energy_kwh = pyo.value(result.model.energy_kwh)
    else:  # Δ·Σ n_t·g[s,t]: the objective's coefficients of the g columns
        g = result.model.index.columns("g")
        energy_kwh = float(result.model.c[g] @ result.solver.x[g])
    assert energy_kwh == pytest.approx(1.0)
    assert result.report.objective == pytest.approx(1.0)


# ---- levers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "sites", "move", "objective"),
    [
        (1, [0, 1], ("j", 2, "A", "B"), 0.05 + W * 2),  # remaining 0.9, 0.9, 0 after slots 0-2
        (0, [0, 1, 2], ("j", 1, "A", "C"), 0.05 + W * 1),  # remaining 0.9, 0 after slots 0-1
    ],
)
def test_candidate_sites_keep_the_best_by_usable_renewable_energy(k, sites, move, objective):
    """A (the job's site) has no renewables, B 5 kW in slots 2-3, C 50 kW in slot 1. The 1 kW
    job can use min(R, 1 kW) per slot: 2 kWh at B, 1 kWh at C (more power, but one slot), so
    with one candidate besides A the model keeps B. A 180 GB checkpoint takes 0.05 h (E_mig
    0.05 kWh); a move lands inside its departure slot, so only departures into a window are
    feasible: to C at slot 1 (0.9 h of work done in slot 1) or to B at slot 2 (done in slot 2,
    one slot later). With every site the model takes C."""
    inst = ideal_instance(
        {"A": [0, 0, 0, 0], "B": [0, 0, 5, 5], "C": [0, 50, 0, 0]},
        [job(work_h=0.9, checkpoint_gb=180)],
        [("A", "B", 8.0), ("A", "C", 8.0)],
        transfer_endpoint_kw=1.0,
        slowdown_weight=W,
    )
    sets = build_sets(inst, WindowState.initial(inst), inst.n_slots, candidate_k=k)
    assert sets.sites[0] == sites
    out, _ = solve(inst, candidate_sites=k)
    assert moves(out) == [move]
    assert runs(out)[move[1] :] == [0.9]
    assert out.info["objective"] == pytest.approx(objective, abs=1e-7)


@pytest.mark.parametrize(
    ("every", "depart", "objective"),
    [
        # remaining after slots 0, 1, 2, 3 = 2, 1.1, 0.1, 0: delay 3.2/2
        (1, 1, 0.1 + W * 3.2 / 2),
        (0, 1, 0.1 + W * 3.2 / 2),  # 0 = every slot
        # remaining after slots 0..4 = 2, 2, 1.1, 0.1, 0: delay 5.2/2
        (2, 2, 0.1 + W * 5.2 / 2),
    ],
)
def test_departure_every_restricts_departures_to_multiples_of_m(every, depart, objective):
    """A has no renewables, B 5 kW in slots 1-4; a 2-h job at A, T_mig 0.1 h, E_mig 0.1 kWh.
    Departing at slot 0 lands in slot 0, where B has no window: infeasible. Best is to depart at
    slot 1 and run 0.9, 1, 0.1 h in slots 1-3. With m = 2 departures are at slots 0, 2, 4: depart
    at 2 and run 0.9, 1, 0.1 h in slots 2-4 (grid hours before cost 1 kWh, more than the delay
    they save)."""
    inst = ideal_instance(
        {"A": [0] * 6, "B": [0, 5, 5, 5, 5, 0]},
        [job(work_h=2.0, checkpoint_gb=360)],
        [("A", "B", 8.0)],
        transfer_endpoint_kw=1.0,
        slowdown_weight=W,
    )
    out, _ = solve(inst, departure_every=every)
    assert moves(out) == [("j", depart, "A", "B")]
    assert runs(out)[depart:] == [0.9, 1.0, 0.1]
    assert out.info["objective"] == pytest.approx(objective, abs=1e-7)


@pytest.mark.parametrize(
    ("terminal_price", "expected_runs", "objective"),
    [
        # default price 1.2: x = (1, 1) costs 2.5 + 0.2·(3 + 2) + 1.2·2 = 5.9
        # [(1, 0): 1.25 + 0.2·6 + 1.2·3 = 6.05; (0, 0): 0.2·8 + 1.2·4 = 6.4]
        (None, [1.0, 1.0], 5.9),
        # without its slowdown part (price 1) x = (1, 0) would win: 5.45 < 5.5 (1, 1) < 5.6 (0, 0)
        (1.0, [1.0, 0.0], 1.25 + 0.2 * 6 + 1.0 * 3),
        (0.0, [0.0, 0.0], 0.2 * 8),  # a free terminal: wait
    ],
)
def test_default_terminal_price_charges_the_slowdown_left_work_adds(
    terminal_price, expected_runs, objective
):
    """A 4-h job at A (pue 1.25, no renewables) over a 2-slot horizon; Z, with pue 1, is not linked.
    Default terminal price: min pue · power + w/W = 1 + 0.8/4 = 1.2 kWh per hour left. Running
    x_t of slot t costs 1.25·x_t on the grid; flow delay (1/4)·((4 − x0) + (4 − x0 − x1)) weighs
    w = 0.8; terminal price·(4 − x0 − x1). Marginal value of x1: 1.25 − 0.2 − price, of x0:
    1.25 − 0.4 − price. At 1.2 both run; at 1 (no slowdown part) only x0."""
    inst = ideal_instance(
        {"A": [0, 0], "Z": [0, 0]},
        [job(work_h=4.0)],
        pue={"A": 1.25, "Z": 1.0},
        slowdown_weight=0.8,
    )
    out, sim = solve(inst, terminal_price=terminal_price)
    assert runs(out) == expected_runs
    assert out.info["objective"] == pytest.approx(objective, abs=1e-7)
    assert sim.metrics["unfinished_jobs"] == 1
