"""The feasibility filter as a switch on every migrating policy, and the paired ablation."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenopt.ablation import (
    ABLATION_METRICS,
    ablate_filter,
    filterable_policies,
    paired_differences,
    percentile_interval,
)
from greenopt.compare import PolicySpec
from greenopt.files import load_instance
from greenopt.generate import generate_instance
from greenopt.instance import Instance, Job, Link, Parameters, Site
from greenopt.policies import make_policy
from greenopt.policies.rolling import RollingPolicy
from greenopt.runner import run_policy

INSTANCES = Path(__file__).resolve().parents[1] / "instances"


def two_sites(checkpoint_gb: float, bandwidth: float) -> Instance:
    """``dark`` never has renewables; ``sunny`` has 2 kW from slot 2 (0.5 h) on. One 0.5 kW job
    (PUE 1, 1 h of work) arrives at ``dark`` at 0 h; horizon 3 h (12 slots of 15 min)."""
    params = Parameters(horizon_h=3.0, slowdown_weight=1.0)
    traces = pd.DataFrame(
        {"none": [0.0] * 12, "sun": [0.0, 0.0] + [1.0] * 10},
        index=pd.Index(np.arange(12) * 0.25, name="time_h"),
    )
    sites = (
        Site("dark", gpus=1, renewable_kw=0.0, profile="none", pue=1.0),
        Site("sunny", gpus=1, renewable_kw=2.0, profile="sun", pue=1.0),
    )
    job = Job(
        "j", power_kw=0.5, work_h=1.0, checkpoint_gb=checkpoint_gb, arrival_h=0, origin="dark"
    )
    return Instance(params, sites, (Link("dark", "sunny", bandwidth, 0.0),), (job,), traces)


# 800 GB over 1 Gbps: T_mig = 60 + 6400/0.9 s ≈ 2 h > alpha · W (W ≤ 2.5 h): every move is
# infeasible. 1 GB over 10 Gbps: T_mig ≈ 61 s, feasible into the sunny window.
INFEASIBLE = (800.0, 1.0)
FEASIBLE = (1.0, 10.0)


def fingerprint(schedule) -> str:
    """Hash of a schedule's two tables (floats rounded far below any meaningful difference)."""
    a = schedule.assignment.copy()
    a["run_fraction"] = a["run_fraction"].round(9)
    m = schedule.migrations.copy()
    m["transfer_s"] = m["transfer_s"].round(6)
    text = a.to_csv(index=False) + "\n" + m.to_csv(index=False)
    return hashlib.sha256(text.encode()).hexdigest()


#: Schedules on instances/default produced by main before the switch existed (commit 2e8ccc7).
BEFORE_SWITCH = {
    ("energy_greedy", ()): "b9335581a30c1aa97f2816f67a8e7d0efb4539a6fcf7cb7fff523ecbe666a31b",
    ("feasibility_greedy", ()): "f60107be3546a373e4e09889d908f14258916038f51ba60759ffd43b61930ddc",
    (
        "feasibility_greedy",
        (("forecast", "noisy"), ("seed", 3)),
    ): "6ab2d29290d0231468c0fdbecfb1b965d4e0c846a227b07e463c1ff3985acd1d",
}


@pytest.mark.parametrize(("name", "settings"), sorted(BEFORE_SWITCH))
def test_default_schedules_are_those_from_before_the_switch(name, settings):
    inst = load_instance(INSTANCES / "default")
    policy = make_policy(name, **dict(settings))
    assert policy.settings.feasibility_filter is (name == "feasibility_greedy")
    assert fingerprint(policy.plan(inst).schedule) == BEFORE_SWITCH[(name, settings)]


def test_energy_greedy_with_the_filter_refuses_the_infeasible_move():
    inst = two_sites(*INFEASIBLE)
    free = run_policy(inst, make_policy("energy_greedy"))
    assert free.metrics["migrations"] == 1 and free.metrics["infeasible_migrations"] == 1
    filtered = run_policy(inst, make_policy("energy_greedy", feasibility_filter=True))
    assert filtered.simulation.valid
    assert filtered.metrics["migrations"] == 0
    assert filtered.settings["feasibility_filter"] is True  # recorded with the result


def test_energy_greedy_with_the_filter_keeps_feasible_moves():
    inst = two_sites(*FEASIBLE)
    free = run_policy(inst, make_policy("energy_greedy"))
    filtered = run_policy(inst, make_policy("energy_greedy", feasibility_filter=True))
    assert free.metrics["migrations"] == 1 and free.metrics["infeasible_migrations"] == 0
    assert fingerprint(filtered.schedule) == fingerprint(free.schedule)


def test_feasibility_greedy_without_the_filter_takes_the_infeasible_move():
    inst = two_sites(*INFEASIBLE)
    filtered = run_policy(inst, make_policy("feasibility_greedy"))
    assert filtered.metrics["migrations"] == 0
    free = run_policy(inst, make_policy("feasibility_greedy", feasibility_filter=False))
    assert free.simulation.valid
    assert free.metrics["migrations"] == 1
    assert free.metrics["infeasible_migrations"] == 1  # the simulator counts it
    assert free.settings["feasibility_filter"] is False


def test_feasibility_greedy_without_the_filter_moves_as_before_when_all_is_feasible():
    inst = two_sites(*FEASIBLE)
    on = make_policy("feasibility_greedy").plan(inst).schedule
    off = make_policy("feasibility_greedy", feasibility_filter=False).plan(inst).schedule
    assert len(on.migrations) == 1
    assert fingerprint(on) == fingerprint(off)


@pytest.mark.parametrize("flt", [True, False])
def test_rolling_fallback_follows_the_filter(flt):
    # a budget too small to solve: the one step (the whole horizon, so the 2 h transfer can land
    # within it) falls back to feasibility_greedy
    inst = two_sites(*INFEASIBLE)
    out = RollingPolicy(
        forecast="perfect", time_limit_s=1e-4, step_h=3.0, lookahead_h=3.0, feasibility_filter=flt
    ).plan(inst)
    assert out.info["fallback_steps"] == out.info["steps"] > 0
    assert len(out.schedule.migrations) == (0 if flt else 1)


def test_every_migrating_policy_has_the_switch():
    assert filterable_policies() == ["energy_greedy", "feasibility_greedy", "milp", "rolling"]


def test_ablation_table_pairs_filter_on_and_off():
    feasible = two_sites(*FEASIBLE)
    instances = [two_sites(*INFEASIBLE), feasible.with_renewable(feasible.renewable_kw, "feasible")]
    specs = [PolicySpec.parse("energy_greedy"), PolicySpec.parse("feasibility_greedy")]
    table = ablate_filter(instances, specs)
    assert list(table.columns) == ["instance", "policy", "filter", "valid", *ABLATION_METRICS]
    assert len(table) == 2 * 2 * 2 and table["valid"].all()
    row = table.set_index(["instance", "policy", "filter"])
    infeasible = instances[0].name
    assert row.loc[(infeasible, "energy_greedy", False), "infeasible_migrations"] == 1
    assert row.loc[(infeasible, "energy_greedy", True), "infeasible_migrations"] == 0
    assert row.loc[(infeasible, "feasibility_greedy", False), "infeasible_migrations"] == 1
    assert row.loc[("feasible", "energy_greedy", True), "infeasible_migrations"] == 0
    assert (table["objective"] > 0).all()

    diffs = paired_differences(table, n_resamples=500).set_index(["policy", "metric"])
    d = diffs.loc[("energy_greedy", "infeasible_migrations")]
    assert d["n"] == 2
    assert d["diff_mean"] == pytest.approx(-0.5)  # (0 − 1 + 0 − 0) / 2
    assert -1.0 <= d["diff_low"] <= d["diff_mean"] <= d["diff_high"] <= 0.0
    assert d["off_low"] >= 0.0 and d["on_low"] >= 0.0


def test_ablation_rejects_policies_without_the_switch_and_preset_filters():
    inst = two_sites(*FEASIBLE)
    with pytest.raises(ValueError, match="no feasibility filter"):
        ablate_filter([inst], [PolicySpec.parse("static")])
    with pytest.raises(ValueError, match="sets feasibility_filter itself"):
        ablate_filter([inst], [PolicySpec.parse("milp:feasibility_filter=false")])
    with pytest.raises(ValueError, match="distinct names"):
        ablate_filter([inst, inst], [PolicySpec.parse("energy_greedy")])


def test_percentile_intervals_stay_within_the_data():
    rng = np.random.default_rng(1)
    counts = np.array([0, 0, 0, 1, 0, 0, 2, 0])  # a t-interval of these goes below zero
    low, high = percentile_interval(counts, 0.95, 2000, rng)
    assert 0.0 <= low <= counts.mean() <= high <= counts.max()
    mean, sem = counts.mean(), counts.std(ddof=1) / np.sqrt(len(counts))
    assert mean - 2.36 * sem < 0  # the interval this method replaces


@pytest.mark.parametrize("name", ["energy_greedy", "feasibility_greedy"])
@pytest.mark.parametrize("flt", [True, False])
def test_greedy_schedules_are_valid_with_either_filter_state(name, flt):
    for inst in (load_instance(INSTANCES / "tiny"), generate_instance(5, 20, 1, seed=3)):
        result = run_policy(inst, make_policy(name, feasibility_filter=flt, forecast="noisy"))
        assert result.simulation.valid, (inst.name, result.simulation.violations[:5])


def test_milp_ablation_on_tiny_keeps_the_filter_and_gains_without_it():
    # solved to optimality: the unfiltered model holds every filtered schedule, so it scores no
    # worse on the (shared) objective
    table = ablate_filter(
        [load_instance(INSTANCES / "tiny")], [PolicySpec.parse("milp:mip_rel_gap=0")]
    ).set_index("filter")
    assert table.loc[True, "infeasible_migrations"] == 0
    assert table.loc[False, "objective"] <= table.loc[True, "objective"] + 1e-6
