"""Network routes and the feasibility domain against hand-computed values (SPEC §3)."""

import numpy as np
import pytest
from helpers import make_instance

from greenopt.feasibility import (
    WindowTable,
    break_even_h,
    domain_table,
    is_feasible,
    max_checkpoint_gb,
    migration_energy_kwh,
    migration_time_s,
    window_lengths,
    window_statistics,
)
from greenopt.instance import Job, Parameters, Site
from greenopt.network import Network, Route

P = Parameters(horizon_h=2.0)  # SPEC defaults: overhead 60 s, efficiency 0.9, 0.002 kWh/GB, 0.2 kW


#: four sites a-d with 1 kW of renewables throughout eight one-hour slots
FOUR_SITES = dict.fromkeys("abcd", [1.0] * 8)


def test_migration_time_energy_break_even_by_hand():
    route = Route(("a", "b"), 10.0, 20.0)
    # 60 s + 8·45 GB / (10 Gbps · 0.9) + 0.020 s = 60 + 40 + 0.02
    t = migration_time_s(P, 45.0, route)
    assert t == pytest.approx(100.02, abs=1e-12)
    # 0.002·45 + 0.2·100.02/3600 kWh
    e = migration_energy_kwh(P, 45.0, t)
    assert e == pytest.approx(0.09 + 0.2 * 100.02 / 3600, abs=1e-15)
    # divided by pue·power = 1.2 · 0.5
    assert break_even_h(e, 1.2, 0.5) == pytest.approx(e / 0.6)


def test_widest_path_prefers_bandwidth_then_latency_then_hops():
    # a–b direct at 1 Gbps; a–c–b at 10 Gbps (latency 5+5); a–d–b at 10 Gbps (latency 3+3)
    inst = make_instance(
        FOUR_SITES,
        links=[
            ("a", "b", 1, 1),
            ("a", "c", 10, 5),
            ("c", "b", 10, 5),
            ("a", "d", 10, 3),
            ("d", "b", 40, 3),
        ],
    )
    route = Network(inst).route("a", "b")
    assert route.path == ("a", "d", "b")
    assert route.bandwidth_gbps == 10
    assert route.latency_ms == 6
    assert Network(inst).route("b", "a").path == ("b", "d", "a")


def test_route_ties_broken_by_hops_then_ids_from_smaller_endpoint():
    # two equal-latency, equal-width two-hop paths a–c–d and a–b–d: lexicographic picks a,b,d
    inst = make_instance(
        FOUR_SITES,
        links=[("a", "c", 10, 1), ("c", "d", 10, 1), ("a", "b", 10, 1), ("b", "d", 10, 1)],
    )
    net = Network(inst)
    assert net.route("a", "d").path == ("a", "b", "d")
    assert net.route("d", "a").path == ("d", "b", "a")  # reverse of the one searched from "a"
    # a direct link of the same latency sum wins on hops
    inst2 = make_instance(
        FOUR_SITES,
        links=[("a", "c", 10, 1), ("c", "d", 10, 1), ("a", "d", 10, 2), ("a", "b", 10, 0)],
    )
    assert Network(inst2).route("a", "d").path == ("a", "d")


def test_unconnected_sites_have_no_route_and_are_infeasible():
    inst = make_instance(FOUR_SITES, links=[("a", "b", 10, 0)])
    net = Network(inst)
    assert net.route("a", "c") is None
    job = Job("j", power_kw=0.3, work_h=1, checkpoint_gb=1, arrival_h=0, origin="a")
    assert not is_feasible(P, job, None, inst.sites[2], window_h=10.0)


def test_window_lengths_run_to_the_first_failing_slot_and_stop_at_horizon():
    ok = np.array([1, 1, 0, 1, 1, 1], bool)
    assert window_lengths(ok, 0.25).tolist() == [0.5, 0.25, 0.0, 0.75, 0.5, 0.25]


def test_window_table_uses_surplus_after_idle_and_pue():
    # R = 1 kW·cf; job 0.5 kW at PUE 1.2 needs cf ≥ 0.6 (idle 0)
    job = Job("j", power_kw=0.5, work_h=1, checkpoint_gb=1, arrival_h=0, origin="a")
    inst = make_instance({"a": [0.7, 0.6, 0.59, 0.9]}, [job], pue=1.2, slot_minutes=15)
    assert WindowTable(inst).hours[0, 0].tolist() == [0.5, 0.25, 0.0, 0.25]


def test_time_condition_is_the_binding_frontier():
    p = Parameters(horizon_h=2.0, network_kwh_per_gb=0.0)  # E_mig tiny: only time can bind
    job = Job("j", power_kw=0.3, work_h=1, checkpoint_gb=100, arrival_h=0, origin="a")
    dest = Site("b", gpus=1, renewable_kw=1, profile="pv")
    route = Route(("a", "b"), 10.0, 0.0)
    t = migration_time_s(p, 100, route)  # 60 + 800/9 = 148.89 s
    w_exact = t / (p.alpha * 3600)  # window whose alpha share equals T_mig: 0.4136 h
    # energy side: T_be = 0.2·148.89/3600 / 0.36 = 0.023 h ≤ W
    assert is_feasible(p, job, route, dest, w_exact)
    assert not is_feasible(p, job, route, dest, w_exact * 0.999)
    assert not is_feasible(p, Job(**{**job.__dict__, "migratable": False}), route, dest, 10.0)


def test_large_checkpoint_can_be_ruled_out_by_energy_alone():
    # 100 GB at 10 Gbps for a 0.3 kW job: E = 0.2 + 0.2·148.89/3600 = 0.2083 kWh,
    # T_be = 0.2083 / (1.2·0.3) = 0.5786 h; a 0.5 h window passes the time test (alpha·W = 180 s)
    job = Job("j", power_kw=0.3, work_h=1, checkpoint_gb=100, arrival_h=0, origin="a")
    dest = Site("b", gpus=1, renewable_kw=1, profile="pv")
    route = Route(("a", "b"), 10.0, 0.0)
    assert not is_feasible(P, job, route, dest, 0.5)
    assert is_feasible(P, job, route, dest, 0.58)


def test_energy_condition_uses_tau():
    # tiny window where time is fine but break-even exceeds W − τ
    p = Parameters(horizon_h=2.0, alpha=1.0, network_kwh_per_gb=1.0)
    job = Job("j", power_kw=1.0, work_h=1, checkpoint_gb=1, arrival_h=0, origin="a")
    dest = Site("b", gpus=1, renewable_kw=1, profile="pv", pue=1.0)
    route = Route(("a", "b"), 100.0, 0.0)
    # E ≈ 1 + 0.2·60.09/3600 kWh → T_be ≈ 1.0033 h at 1 kW
    assert is_feasible(p, job, route, dest, window_h=1.25, tau_h=0.0)
    assert not is_feasible(p, job, route, dest, window_h=1.25, tau_h=0.25)


def test_max_checkpoint_and_domain_table_agree():
    # S_max(10 Gbps, 5 h) = (0.1·5·3600 − 60)·10·0.9/8 = 1740·1.125 = 1957.5 GB
    assert max_checkpoint_gb(P, 10, 5) == pytest.approx(1957.5)
    # a 5 kW job so that break-even (≈ 4 kWh / 6 kW ≈ 0.7 h) stays inside the window
    table = domain_table(P, [1957.0, 1958.0], [10.0], [5.0], power_kw=5.0)
    assert table["feasible_5h"].tolist() == [True, False]
    assert max_checkpoint_gb(P, 1, 0.1) == 0.0  # overhead alone exceeds alpha·W


def test_window_statistics_counts_maximal_runs():
    inst = make_instance({"a": [1, 1, 0, 1, 0, 1, 1, 1]}, pue=1.2, slot_minutes=15)
    stats = window_statistics(inst, power_kw=0.5)
    assert stats.loc[0, "count"] == 3
    assert stats.loc[0, "mean_h"] == pytest.approx((0.5 + 0.25 + 0.75) / 3)
    assert stats.loc[0, "median_h"] == pytest.approx(0.5)
