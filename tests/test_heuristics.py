"""Greedy policies: hand-checked behaviour on a two-site instance, and validity everywhere."""

from pathlib import Path

import numpy as np
import pytest
from helpers import make_instance

from greenopt.feasibility import WindowTable
from greenopt.files import load_instance
from greenopt.generate import generate_instance
from greenopt.instance import Instance, Job
from greenopt.policies import make_policy
from greenopt.policies.heuristics import HEURISTICS, FeasibilityGreedyPolicy
from greenopt.runner import run_policy

INSTANCES = Path(__file__).resolve().parents[1] / "instances"


def two_sites(checkpoint_gb: float, bandwidth: float = 10.0, deadline_h=None) -> Instance:
    """Site ``dark`` never has renewables; ``sunny`` has 2 kW from slot 2 (0.5 h) to the end.

    One 0.5 kW job (PUE 1) with 1 h of work arrives at ``dark`` at 0 h; horizon 3 h (12 slots).
    """
    job = Job(
        "j",
        power_kw=0.5,
        work_h=1.0,
        checkpoint_gb=checkpoint_gb,
        arrival_h=0.0,
        origin="dark",
        deadline_h=deadline_h,
    )
    renewable = {"dark": [0.0] * 12, "sunny": [0.0, 0.0] + [2.0] * 10}
    links = [("dark", "sunny", bandwidth, 0.0)]
    return make_instance(renewable, [job], links, gpus=1, slot_minutes=15, slowdown_weight=1.0)


def test_static_runs_at_origin_from_arrival():
    result = run_policy(two_sites(1.0), make_policy("static"))
    assert result.simulation.valid
    rows = result.schedule.assignment
    assert set(rows["site"]) == {"dark"}
    # 1 h of work = 4 full slots from slot 0: all of it on grid power, 0.5 kW · 1 h
    assert rows["run_fraction"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert result.metrics["nre_kwh"] == pytest.approx(0.5)
    assert result.metrics["migrations"] == 0


def test_feasibility_greedy_moves_into_the_window_it_can_reach():
    # 1 GB over 10 Gbps: T_mig = 60 + 8/9 = 60.89 s ≤ 0.1 · 2.5 h window. At slot 0 the sunny
    # window (from arrival slot 0) is 0, so the job computes at dark until a move lands in the
    # window: it departs at slot 2 (window 2.5 h from there) with 0.5 h of work left.
    result = run_policy(two_sites(1.0), make_policy("feasibility_greedy"))
    assert result.simulation.valid
    migs = result.schedule.migrations
    assert migs[["src", "dst", "depart_slot"]].values.tolist() == [["dark", "sunny", 2]]
    assert result.metrics["infeasible_migrations"] == 0
    # grid: 0.5 kW over slots 0–1 (0.25 kWh) + E_mig = 0.002·1 + 0.2·60.8889/3600 kWh
    assert result.metrics["nre_kwh"] == pytest.approx(0.25 + 0.002 + 0.2 * (60 + 8 / 9) / 3600)


def test_energy_greedy_ignores_migration_time():
    # 800 GB over 1 Gbps: T_mig = 60 + 6400/0.9 s ≈ 2 h > 0.1 · 2.5 h, so the move is infeasible,
    # yet the energy-driven policy makes it as soon as sunny has the larger surplus (slot 2).
    result = run_policy(two_sites(800.0, bandwidth=1.0), make_policy("energy_greedy"))
    assert result.simulation.valid
    assert result.metrics["migrations"] == 1
    assert result.metrics["infeasible_migrations"] == 1
    # feasibility_greedy refuses that move
    safe = run_policy(two_sites(800.0, bandwidth=1.0), make_policy("feasibility_greedy"))
    assert safe.metrics["migrations"] == 0


def test_feasibility_greedy_moves_a_job_queued_for_a_gpu_to_a_free_one_in_a_window():
    # A: 1 GPU, no renewables; B: 2 GPUs, 1 kW all the time. j1 (0.5 kW) runs at A from 0 h;
    # j3 (0.8 kW) runs at B, leaving 0.2 kW of surplus there. j2 (0.5 kW, 1 GB) arrives at A at
    # 0.25 h and finds A's GPU busy. Moving to B is in the feasibility domain (B's surplus covers
    # j2 alone: W = 2.75 h ≥ T_mig/alpha) though j3 already uses most of it; staying gains j2
    # nothing, so it moves at once (slot 1) instead of waiting 1.75 h for j1's GPU.
    jobs = (
        Job("j1", power_kw=0.5, work_h=2.0, checkpoint_gb=1.0, arrival_h=0.0, origin="A"),
        Job("j2", power_kw=0.5, work_h=1.0, checkpoint_gb=1.0, arrival_h=0.25, origin="A"),
        Job("j3", power_kw=0.8, work_h=2.0, checkpoint_gb=1.0, arrival_h=0.0, origin="B"),
    )
    inst = make_instance(
        {"A": [0.0] * 12, "B": [1.0] * 12},
        jobs,
        [("A", "B", 10.0, 0.0)],
        gpus={"A": 1, "B": 2},
        slot_minutes=15,
        slowdown_weight=1.0,
    )
    result = run_policy(inst, make_policy("feasibility_greedy"))
    assert result.simulation.valid
    migs = result.schedule.migrations
    assert migs[["job_id", "src", "dst", "depart_slot"]].values.tolist() == [["j2", "A", "B", 1]]
    assert result.metrics["infeasible_migrations"] == 0
    # j2 lands 60.89 s into slot 1 and computes from then on: done at 0.25 h + T_mig + 1 h
    done = result.simulation.completion_h[inst.job_index["j2"]]
    assert done == pytest.approx(1.25 + (60 + 8 / 9) / 3600)


def test_pause_greedy_waits_for_surplus_unless_the_deadline_forces_it():
    # never any surplus at dark: the job waits until its 4 slots of work, plus one slot of margin,
    # fill what is left before the horizon (12 slots): it starts at slot 12 − 4 − 1 = 7
    relaxed = run_policy(two_sites(1.0), make_policy("pause_greedy"))
    assert relaxed.simulation.valid
    assert relaxed.metrics["unfinished_jobs"] == 0
    first_run = relaxed.schedule.assignment.query("run_fraction > 0")["slot"].min()
    assert first_run == 7
    # with a deadline at 1.5 h it must start at slot 6 − 4 − 1 = 1
    tight = run_policy(two_sites(1.0, deadline_h=1.5), make_policy("pause_greedy"))
    assert tight.schedule.assignment.query("run_fraction > 0")["slot"].min() == 1
    assert tight.metrics["deadline_misses"] == 0


def bundled_and_generated():
    yield "tiny", load_instance(INSTANCES / "tiny")
    yield "default", load_instance(INSTANCES / "default")
    yield "generated", generate_instance(sites=5, jobs=20, days=1, seed=3)


@pytest.mark.parametrize("name", sorted(HEURISTICS))
def test_every_greedy_schedule_is_valid(name):
    for label, inst in bundled_and_generated():
        result = run_policy(inst, make_policy(name))
        assert result.simulation.valid, (label, result.simulation.violations[:5])


def test_energy_greedy_moves_more_and_infeasibly_on_default():
    inst = load_instance(INSTANCES / "default")
    energy = run_policy(inst, make_policy("energy_greedy")).metrics
    feasible = run_policy(inst, make_policy("feasibility_greedy")).metrics
    assert energy["migrations"] > feasible["migrations"]
    assert energy["infeasible_migrations"] > 0
    assert feasible["infeasible_migrations"] == 0


@pytest.mark.parametrize("first_slot", [0, 37])
def test_feasibility_greedy_windows_are_the_spec_windows(first_slot):
    """The policy's table of first short slots gives WindowTable.hours exactly, from first_slot."""
    inst = generate_instance(sites=4, jobs=12, days=1, seed=5)
    policy = FeasibilityGreedyPolicy()
    policy.prepare(inst, first_slot=first_slot)
    slots = np.arange(first_slot, inst.n_slots)
    hours = (policy._short_from - slots[:, None, None]) * inst.dt_h  # [t − first_slot, j, b]
    expected = WindowTable(inst).hours[:, :, first_slot:]
    assert expected.max() > 0 and expected.min() == 0  # windows and gaps both occur
    np.testing.assert_array_equal(hours.transpose(1, 2, 0), expected)
