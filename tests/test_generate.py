"""The instance generator and the bundled real profiles."""

import importlib.util
import math
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from greenopt.cli import app
from greenopt.data import load_profiles, profile_catalogue, profile_info
from greenopt.files import load_instance, write_instance
from greenopt.generate import BANDWIDTHS_GBPS, MAX_JOB_KW, generate_instance
from greenopt.network import build_graph

ROOT = Path(__file__).resolve().parents[1]


def check_spec(inst) -> None:
    """SPEC §2 constraints and the generator's documented ranges."""
    horizon = inst.params.horizon_h
    ids = [s.site_id for s in inst.sites]
    assert len(set(ids)) == len(ids)
    for s in inst.sites:
        assert 2 <= s.gpus <= 8 and 1.1 <= s.pue <= 1.5 and 0.1 <= s.idle_kw <= 0.4
        assert s.renewable_kw > 0
        assert s.profile in inst.traces.columns
    for j in inst.jobs:
        assert 0 <= j.arrival_h <= 2 / 3 * horizon < horizon
        assert 0.25 <= j.power_kw <= 0.7 and 2 <= j.work_h <= 24 and 1 <= j.checkpoint_gb <= 200
        assert j.gpus == 1 and j.origin in ids
        assert j.deadline_h is None or j.deadline_h > j.arrival_h
    graph = build_graph(inst)
    assert nx.is_connected(graph)
    n = len(ids)
    if n >= 4:
        assert graph.number_of_edges() < n * (n - 1) // 2
    for link in inst.links:
        assert link.bandwidth_gbps in BANDWIDTHS_GBPS and link.latency_ms >= 5
    cf = inst.slot_traces.to_numpy()
    assert np.isfinite(cf).all() and cf.min() >= 0 and cf.max() <= 1
    assert inst.renewable_kw.shape == (n, inst.n_slots)
    meta = inst.params.meta
    assert meta["synthetic"] is True and "traces are real" in meta["synthetic_parts"]
    assert "ODbL" in meta["licence"] and "SimBench" in meta["source"]


def test_same_seed_same_instance_and_different_seed_differs():
    a = generate_instance(8, 60, 3, seed=5)
    b = generate_instance(8, 60, 3, seed=5)
    c = generate_instance(8, 60, 3, seed=6)
    assert a == b and a.traces.equals(b.traces) and a.params.start == b.params.start
    assert a != c
    assert [j.checkpoint_gb for j in a.jobs] != [j.checkpoint_gb for j in c.jobs]


@pytest.mark.parametrize(
    ("sites", "jobs", "days", "seed"),
    [(1, 3, 1, 0), (2, 5, 0.5, 1), (4, 30, 3, 2), (23, 200, 7, 3)],
)
def test_generated_instances_meet_the_spec_and_round_trip(tmp_path, sites, jobs, days, seed):
    inst = generate_instance(sites, jobs, days, seed)
    check_spec(inst)
    assert inst.n_slots == round(days * 96) and len(inst.jobs) == jobs
    write_instance(inst, tmp_path / "inst")
    assert load_instance(tmp_path / "inst") == inst


def test_job_mix_counts_and_profile_mix():
    inst = generate_instance(10, 100, 7, seed=11)
    assert sum(not j.migratable for j in inst.jobs) == 20
    assert sum(j.deadline_h is not None for j in inst.jobs) == 30
    kinds = [profile_info(s.profile).kind for s in inst.sites]
    assert kinds.count("pv") == 5 and kinds.count("wind") == 5  # alternating while both last
    assert len({s.profile for s in inst.sites}) == 10


def test_traces_are_the_bundled_profiles_from_the_start_day():
    inst = generate_instance(5, 10, 2, seed=4, start_day=9)
    block = load_profiles()
    assert inst.params.start == block.index[9 * 96].to_pydatetime()
    for site in inst.sites:
        expected = block[site.profile].to_numpy()[9 * 96 : 11 * 96]
        np.testing.assert_array_equal(inst.traces[site.profile].to_numpy(), expected)
        i = inst.site_index[site.site_id]
        np.testing.assert_allclose(inst.renewable_kw[i], site.renewable_kw * expected)


def test_beyond_23_sites_profiles_are_reused_shifted_by_whole_days():
    inst = generate_instance(40, 50, 14, seed=1, start_day=3)
    names = [s.profile for s in inst.sites]
    assert len(set(names)) == 40
    assert sum("+" not in n for n in names) == len(profile_catalogue()) == 23
    block = load_profiles()
    for name in (n for n in names if "+" in n):
        base, shift = name.rsplit("+", 1)
        k = int(shift.removesuffix("d"))
        assert 1 <= k < 28
        rows = (np.arange(14 * 96) + (3 + k) * 96) % len(block)
        np.testing.assert_array_equal(inst.traces[name].to_numpy(), block[base].to_numpy()[rows])
    check_spec(inst)


def test_every_site_can_host_the_largest_job_at_its_best_times():
    """Capacity floor: renewable_kw · q95(cf) ≥ 1.1 · (idle + pue · 0.7), up to rounding."""
    inst = generate_instance(23, 20, 2, seed=8)
    block = load_profiles()
    for s in inst.sites:
        q95 = block[s.profile].quantile(0.95)
        assert (s.renewable_kw + 0.05) * q95 >= 1.1 * (s.idle_kw + s.pue * MAX_JOB_KW) - 1e-9


def test_demand_sometimes_exceeds_renewable_supply_and_windows_exist():
    inst = generate_instance(10, 120, 7, seed=2)
    dt = inst.dt_h
    demand = np.full(inst.n_slots, sum(s.idle_kw for s in inst.sites))
    for j in inst.jobs:  # each job running from its arrival at its origin's PUE
        pue = inst.sites[inst.site_index[j.origin]].pue
        first = inst.arrival_slot(j)
        demand[first : first + math.ceil(j.work_h / dt)] += pue * j.power_kw
    supply = inst.renewable_kw.sum(axis=0)
    assert (demand > supply).any() and (supply > demand).any()
    from greenopt.feasibility import window_statistics

    stats = window_statistics(inst)
    assert (stats["count"] > 0).sum() >= 8 and stats["mean_h"].max() >= 2


def test_chosen_profiles_and_coarser_slots(tmp_path):
    inst = generate_instance(
        2, 4, 1, seed=3, slot_minutes=60, profiles=["tmy2_miami_fl", "simbench_WP2+5d"]
    )
    assert [s.profile for s in inst.sites] == ["tmy2_miami_fl", "simbench_WP2+5d"]
    assert inst.n_slots == 24
    block = load_profiles()
    start = inst.params.start
    day = (block.index.get_loc(start) // 96 + 5) % 28
    hourly = block["simbench_WP2"].to_numpy()[day * 96 : day * 96 + 96].reshape(24, 4).mean(1)
    np.testing.assert_allclose(inst.slot_traces["simbench_WP2+5d"].to_numpy(), hourly)
    write_instance(inst, tmp_path / "x")
    assert load_instance(tmp_path / "x") == inst


def test_load_scales_renewable_capacity_down():
    base = generate_instance(6, 200, 3, seed=9)
    scarce = generate_instance(6, 200, 3, seed=9, load=2.0)
    assert sum(s.renewable_kw for s in scarce.sites) < sum(s.renewable_kw for s in base.sites)
    assert scarce.jobs == base.jobs


def test_large_instance_is_fast():
    start = time.perf_counter()
    inst = generate_instance(40, 500, 14, seed=0)
    assert time.perf_counter() - start < 1.0
    assert inst.n_slots == 14 * 96 and len(inst.sites) == 40 and len(inst.jobs) == 500


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sites": 0, "jobs": 1, "days": 1, "seed": 0},
        {"sites": 2, "jobs": 1, "days": 29, "seed": 0},
        {"sites": 2, "jobs": 1, "days": 0, "seed": 0},
        {"sites": 2, "jobs": 1, "days": 1 / 96 / 3, "seed": 0},
        {"sites": 2, "jobs": 1, "days": 14, "seed": 0, "start_day": 15},
        {"sites": 2, "jobs": 1, "days": 1, "seed": 0, "load": 0},
        {"sites": 1, "jobs": 1, "days": 1, "seed": 0, "profiles": ["simbench_PV9"]},
        {"sites": 1, "jobs": 1, "days": 1, "seed": 0, "profiles": ["simbench_PV1+28d"]},
        {"sites": 2, "jobs": 1, "days": 1, "seed": 0, "profiles": ["simbench_PV1"]},
        {"sites": 23 * 28 + 1, "jobs": 1, "days": 1, "seed": 0},
    ],
)
def test_bad_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError):
        generate_instance(**kwargs)


def generate_args(days: str, out) -> list[str]:
    return [
        "generate",
        "--sites",
        "5",
        "--jobs",
        "12",
        "--days",
        days,
        "--seed",
        "7",
        "--out",
        str(out),
    ]


def test_cli_generate_writes_a_loadable_instance(tmp_path):
    runner = CliRunner()
    out = tmp_path / "g"
    result = runner.invoke(app, generate_args("2", out))
    assert result.exit_code == 0, result.output
    assert load_instance(out) == generate_instance(5, 12, 2, seed=7)
    bad = runner.invoke(app, generate_args("40", tmp_path / "h"))
    assert bad.exit_code == 2 and not (tmp_path / "h").exists()


# ---- the bundled profile file ---------------------------------------------------------------


def test_bundled_profiles_file():
    path = ROOT / "greenopt" / "data" / "profiles.csv"
    assert path.stat().st_size < 1_000_000
    block = load_profiles()
    assert block.shape == (28 * 96, 23)
    steps = pd.Series(block.index).diff().dropna().dt.total_seconds().to_numpy()
    assert (steps == 900).all() and str(block.index[0]) == "2016-04-04 00:00:00+00:00"
    values = block.to_numpy()
    assert np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1
    assert np.array_equal(values, np.round(values, 4))
    kinds = [p.kind for p in profile_catalogue()]
    assert kinds.count("pv") == 11 and kinds.count("wind") == 12
    # different sites, different profiles: no two columns are the same series
    assert len({tuple(block[c]) for c in block.columns}) == 23


def test_committed_profiles_match_a_fresh_build():
    pytest.importorskip("simbench")
    pytest.importorskip("pvlib")
    spec = importlib.util.spec_from_file_location(
        "build_traces", ROOT / "instances/build_traces.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.render(module.build())
    assert (ROOT / "greenopt" / "data" / "profiles.csv").read_text() == fresh
