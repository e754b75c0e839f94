"""Lower bounds (greenopt.bounds): hand-derived optima, the per-job DP against brute force, random
instances against every policy and the full MILP, and the names in compare's outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyomo.contrib.appsi.solvers import Highs

from greenopt.bounds import BoundSettings, lower_bound
from greenopt.bounds.lp import full_sets, model_settings
from greenopt.bounds.paths import job_networks, shortest_paths
from greenopt.compare import PolicySpec, compare
from greenopt.generate import generate_instance
from greenopt.instance import Instance, Job, Link, Parameters, Site
from greenopt.optimization import ModelSettings, schedule_objective
from greenopt.optimization.model import build_model
from greenopt.policies import make_policy
from greenopt.runner import run_policy

CAP_KW = 100.0


def make_instance(renewable, jobs, links=(), gpus=None, slot_minutes=60.0, **params) -> Instance:
    """Sites named by ``renewable`` (kW per slot), PUE 1, 4 GPUs unless ``gpus`` says otherwise."""
    n = len(next(iter(renewable.values())))
    dt = slot_minutes / 60
    traces = pd.DataFrame(
        {f"p_{s}": np.asarray(r, float) / CAP_KW for s, r in renewable.items()},
        index=np.arange(n) * dt,
    )
    sites = tuple(
        Site(s, gpus=(gpus or {}).get(s, 4), renewable_kw=CAP_KW, profile=f"p_{s}", pue=1.0)
        for s in renewable
    )
    defaults = dict(
        link_efficiency=1.0,
        checkpoint_overhead_s=0.0,
        network_kwh_per_gb=0.0,
        transfer_endpoint_kw=0.0,
    )
    p = Parameters(horizon_h=n * dt, slot_minutes=slot_minutes, **(defaults | params))
    return Instance(p, sites, tuple(Link(a, b, bw) for a, b, bw in links), tuple(jobs), traces)


def job(name="j", work_h=1.0, arrival_h=0.0, origin="A", checkpoint_gb=1.0, **kw) -> Job:
    return Job(name, 1.0, work_h, checkpoint_gb, arrival_h, origin, **kw)


def bound(inst, method, **kw) -> float:
    return lower_bound(inst, BoundSettings(method=method, time_limit_s=60, **kw)).lower_bound


# ---- hand-derived optima --------------------------------------------------------------------


@pytest.mark.parametrize(("gpus", "optimum"), [(1, 1.01), (2, 0.0)])
def test_one_site_bounds_equal_the_hand_optimum(gpus, optimum):
    # Two 1-h jobs at A, 2 kW of renewables in slot 0 only (Δ = 1 h, w = 0.01). With 2 GPUs both
    # run in slot 0 for free; with 1 GPU one hour runs on the grid in slot 1 and one hour is left
    # after slot 0: 1 + 0.01·1. One site: no arcs, and the flow-delay model has no binaries, so
    # its LP relaxation is the problem itself (exact). So is the Lagrangian dual (no link rows):
    # column generation reaches it; subgradient ascent only approaches it (validity asserted).
    inst = make_instance(
        {"A": [2, 0, 0]}, [job("j1"), job("j2")], gpus={"A": gpus}, slowdown_weight=0.01
    )
    assert bound(inst, "lp") == pytest.approx(optimum, abs=1e-7)
    assert bound(inst, "lagrangian", gap_tol=1e-7) == pytest.approx(optimum, abs=2e-7)
    assert bound(inst, "lagrangian", ascent="subgradient", iterations=200) <= optimum + 1e-9


def test_migration_bound_is_below_the_hand_optimum():
    # A has no renewables; B 5 kW in slots 1-2. T_mig = 0.1 h, E_mig = 0.1 kWh; the optimum moves
    # at slot 1 and runs 0.9 + 1.0 h there: 0.1 + 0.01·2.9/1.9 (tests/test_milp.py derives it).
    inst = make_instance(
        {"A": [0, 0, 0, 0], "B": [0, 5, 5, 0]},
        [job(work_h=1.9, checkpoint_gb=360)],
        links=[("A", "B", 8.0)],
        transfer_endpoint_kw=1.0,
        slowdown_weight=0.01,
    )
    optimum = 0.1 + 0.01 * 2.9 / 1.9
    lp = bound(inst, "lp")
    lagrangian = bound(inst, "lagrangian", gap_tol=1e-7)
    assert lp <= optimum + 1e-7
    assert lagrangian <= lp + 1e-7
    # one job, no coupling: the LP is exact here (a single path, its run capped per slot), and so
    # is the Lagrangian dual, which column generation reaches
    assert lp == pytest.approx(optimum, abs=1e-6)
    assert lagrangian == pytest.approx(optimum, abs=2e-7)


def test_lp_bound_equals_the_pyomo_lp_relaxation():
    """The compiled arrays are the model: the bound equals Pyomo's relaxed model solved by appsi."""
    inst = generate_instance(3, 5, 1, 3)
    settings = BoundSettings(method="lp")
    sets = full_sets(inst, True)
    model = build_model(sets, model_settings(settings))
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(model)
    solver = Highs()
    solver.config.load_solution = False
    solver.highs_options = {"threads": 1, "output_flag": False}
    relaxed = solver.solve(model).best_objective_bound
    assert lower_bound(inst, settings).lower_bound == pytest.approx(relaxed, rel=1e-6)


# ---- the per-job DP against enumeration -----------------------------------------------------


def enumerate_paths(net, i, node, rho0=None):
    """Every path of job i's network by recursion over (site, slot, phase) and its cost: the
    brute-force reading of the network the DP searches."""
    T, S = net.T, node.shape[1]
    best = np.inf

    def arrivals(a, d):
        for b in range(S):
            if not net.allowed[i, a, b] or d < net.first_depart[i]:
                continue
            e = d + int(net.shift[i, a, b])
            if e >= T:
                continue
            if net.window is not None:
                w = net.window[i, b, e]
                ok = w >= 0 and bool(
                    net.t_mig[i, a, b] <= net.params.alpha * w * 3600 * (1 + 1e-9)
                    and net.t_be[i, a, b] <= w - net.tau[i, a, b] + 1e-9
                )
                if not ok:
                    continue
            extra = 0.0
            if rho0 is not None and e == net.dl_slot[i]:
                extra = rho0[i] * min(net.dl_h[i] - e * net.dt, net.tau[i, a, b])
            yield b, e, net.usable[i, a, b], net.energy[i, a, b] + extra

    def start_of_slot(s, t, cost):  # at s at the start of slot t: stay or depart
        nonlocal best
        if t >= T:
            best = min(best, cost)
            return
        for b, e, u, c in arrivals(s, t):
            land(b, e, u, cost + c)
        computing(s, t, 1.0, cost)

    def land(b, e, u, cost):
        if u >= 1.0:
            start_of_slot(b, e, cost)
        else:
            computing(b, e, u, cost)

    def computing(s, t, cap, cost):  # in slot t at s, may run cap
        cost += cap * min(node[i, s, t], 0.0)
        if t + 1 >= T:
            nonlocal best
            best = min(best, cost)
            return
        start_of_slot(s, t + 1, cost)

    e0, s0 = int(net.e0[i]), int(net.s0[i])
    if net.u0[i] >= 1.0:
        start_of_slot(s0, e0, 0.0)
    else:
        computing(s0, e0, float(net.u0[i]), 0.0)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_shortest_paths_match_enumeration(seed):
    inst = generate_instance(3, 3, 0.125, seed)  # 12 slots
    net = job_networks(inst, True, ModelSettings())
    rng = np.random.default_rng(seed)
    node = rng.normal(0.0, 1.0, (len(net.jobs), len(inst.sites), net.T))
    rho0 = rng.uniform(0, 1, len(net.jobs))
    paths = shortest_paths(net, node, rho0)
    for i in range(len(net.jobs)):
        assert paths.value[i] == pytest.approx(enumerate_paths(net, i, node, rho0), abs=1e-9)
        # the path read back costs what the DP says
        run_cost = float(np.sum(paths.run[i] * node[i]))
        arc_cost = sum(
            net.energy[i, a, b]
            + (rho0[i] * min(net.dl_h[i] - e * net.dt, net.tau[i, a, b])) * (e == net.dl_slot[i])
            for a, b, _d, e in paths.arcs[i]
        )
        assert run_cost + arc_cost == pytest.approx(paths.value[i], abs=1e-9)


# ---- random instances: the bound is below everything ------------------------------------------

HEURISTICS = ("static", "energy_greedy", "feasibility_greedy", "pause_greedy")


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sites=st.integers(2, 3),
    jobs=st.integers(2, 4),
    seed=st.integers(0, 1000),
    load=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_bounds_are_below_every_schedule(sites, jobs, seed, load):
    inst = generate_instance(sites, jobs, 0.25, seed, load=load)
    scoring = ModelSettings()
    lp_filtered = bound(inst, "lp")
    lp_any = bound(inst, "lp", feasibility_filter=False)
    lagrangian = bound(inst, "lagrangian")
    subgradient = bound(inst, "lagrangian", ascent="subgradient", iterations=40)
    assert lp_any <= lp_filtered + 1e-6  # fewer arcs cannot lower the minimum
    assert lagrangian <= lp_filtered + 1e-6  # at most the LP without link rows
    assert subgradient <= lp_filtered + 1e-6
    for name in HEURISTICS:
        result = run_policy(inst, make_policy(name))
        assert result.simulation.valid
        value = schedule_objective(inst, result.schedule, result.simulation, scoring)
        assert lp_any <= value + 1e-6
        if result.metrics["infeasible_migrations"] == 0:
            assert lp_filtered <= value + 1e-6
    full = make_policy("milp", candidate_sites=0, departure_every=1, time_limit_s=30)
    result = run_policy(inst, full)
    value = schedule_objective(inst, result.schedule, result.simulation, scoring)
    assert lp_filtered <= value + 1e-6
    if result.info["solver_status"] == "optimal":  # the full MILP's optimum (within 1e-4)
        assert lp_filtered <= result.info["model_bound"] + 1e-6


# ---- names in the outputs ---------------------------------------------------------------------


def test_compare_reports_true_and_model_gaps(tmp_path):
    from greenopt.compare import write_comparison

    inst = generate_instance(3, 4, 0.25, 5)
    specs = [PolicySpec.parse("static"), PolicySpec.parse("milp:time_limit_s=10")]
    settings_ = BoundSettings(method="lp", time_limit_s=60)
    table, results = compare(inst, specs, bound=settings_)
    lower = lower_bound(inst, settings_).lower_bound
    for label in ("static", "milp:time_limit_s=10"):
        row = table.loc[label]
        assert row["lower_bound"] == pytest.approx(lower)
        assert row["bound_ratio"] == pytest.approx(row["objective"] / lower)
        assert row["bound_ratio"] >= 1 - 1e-9
    write_comparison(inst, table, results, tmp_path, "static")
    saved = pd.read_csv(tmp_path / "comparison.csv").set_index("policy")
    assert {"lower_bound", "bound_ratio", "model_bound", "model_gap"} <= set(saved.columns)
    assert "dual_bound" not in saved.columns and "mip_gap" not in saved.columns
    milp = json.loads((tmp_path / "runs" / "milp_time_limit_s-10" / "metrics.json").read_text())
    info = results["milp:time_limit_s=10"].info
    assert milp["model_gap"] == pytest.approx(info["model_gap"])
    assert milp["info"]["model_bound"] == pytest.approx(info["model_bound"])
    assert milp["info"]["lower_bound"] == pytest.approx(lower)
    ratio = saved.loc["milp:time_limit_s=10", "bound_ratio"]
    assert milp["info"]["bound_ratio"] == pytest.approx(ratio)


def test_bound_cli_json(tmp_path):
    from typer.testing import CliRunner

    from greenopt.cli import app

    result = CliRunner().invoke(app, ["bound", "instances/tiny", "--method", "lp", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["method"] == "lp" and payload["lp_status"] == "Optimal"
    assert payload["lower_bound"] == pytest.approx(payload["lp_primal_objective"], rel=1e-6)
    assert "flow delay" in payload["objective"] and payload["settings"]["threads"] == 1


def test_bound_benchmark_appends_rows(tmp_path, capsys):
    from benchmarks.bound import COLUMNS, main

    out = tmp_path / "bound.csv"
    main(
        [
            "--instances",
            "tiny",
            "--methods",
            "lp,lagrangian",
            "--time-limit",
            "60",
            "--out",
            str(out),
        ]
    )
    table = pd.read_csv(out)
    assert list(table.columns) == COLUMNS and len(table) == 2
    lp, lagrangian = table.lower_bound
    assert lagrangian <= lp + 1e-6 and (table.peak_rss_mib > 0).all()
    assert "tiny/lp: bound" in capsys.readouterr().out


def test_sweep_points_carry_the_bound():
    import tomllib

    from greenopt.sweep.config import parse_sweep
    from greenopt.sweep.execute import run_point

    text = """
    [instance]
    generate = { sites = 2, jobs = 3, days = 0.25 }
    [vary]
    policy = ["static", "pause_greedy"]
    [run]
    bound = true
    """
    sweep = parse_sweep(tomllib.loads(text), name="b")
    rows = [run_point(p.spec) for p in sweep.points]
    lower = rows[0]["lower_bound"]
    assert lower is not None and all(r["lower_bound"] == lower for r in rows)
    for r in rows:
        assert r["bound_ratio"] == pytest.approx(r["objective"] / lower)
        assert r["bound_ratio"] >= 1 - 1e-9 and r["bound_method"] == "lp"
        assert r["bound_time_s"] > 0 and json.loads(r["bound_settings"])["method"] == "auto"
    plain = parse_sweep(tomllib.loads(text.replace("bound = true", "")), name="b")
    assert "lower_bound" not in run_point(plain.points[0].spec)
    assert [p.key for p in plain.points] == [p.key for p in sweep.points]


def test_column_generation_reaches_the_lp_where_links_do_not_bind():
    # instances/tiny: the full LP's link rows are slack at its optimum, so the Lagrangian dual
    # (the LP without link rows) equals it, and column generation gets there (within gap_tol)
    from greenopt.files import load_instance

    inst = load_instance("instances/tiny")
    lp = lower_bound(inst, BoundSettings(method="lp"))
    columns = lower_bound(inst, BoundSettings(method="lagrangian", gap_tol=1e-6))
    assert lp.details["lp_status"] == "Optimal"
    assert columns.lower_bound <= lp.lower_bound + 1e-6
    assert columns.lower_bound == pytest.approx(lp.lower_bound, rel=2e-6)
    assert columns.details["master_value"] == pytest.approx(lp.lower_bound, rel=1e-6)
