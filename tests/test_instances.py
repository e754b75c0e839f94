"""The bundled instances: contents, SPEC constraints, hand-checked tiny figures, and that the
committed folders are what ``instances/build_instances.py`` builds."""

import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from greenopt.data import profile_info
from greenopt.feasibility import (
    WindowTable,
    is_feasible,
    migration_time_s,
    window_statistics,
)
from greenopt.files import load_instance
from greenopt.instance import Parameters
from greenopt.network import Network, build_graph
from greenopt.schedule import arrival_moment_h, slot_of_moment

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


def builder():
    spec = importlib.util.spec_from_file_location(
        "build_instances", INSTANCES / "build_instances.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny():
    return load_instance(INSTANCES / "tiny")


@pytest.fixture(scope="module")
def default():
    return load_instance(INSTANCES / "default")


@pytest.mark.parametrize("name", ["tiny", "default"])
def test_committed_folder_is_a_fresh_build(name):
    built = getattr(builder(), name)()
    loaded = load_instance(INSTANCES / name)
    assert loaded == built
    np.testing.assert_array_equal(loaded.slot_traces.to_numpy(), built.slot_traces.to_numpy())
    assert loaded.params.start == built.params.start and loaded.params.meta == built.params.meta


@pytest.mark.parametrize("name", ["tiny", "default"])
def test_bundled_instances_meet_the_spec_and_are_labelled(name):
    inst = load_instance(INSTANCES / name)
    horizon = inst.params.horizon_h
    assert all(0 <= j.arrival_h < horizon for j in inst.jobs)
    assert all(j.deadline_h is None or j.deadline_h > j.arrival_h for j in inst.jobs)
    assert nx.is_connected(build_graph(inst))
    cf = inst.slot_traces[[s.profile for s in inst.sites]].to_numpy()
    assert cf.min() >= 0 and cf.max() <= 1
    meta = inst.params.meta
    assert meta["synthetic"] is True and "traces are real" in meta["synthetic_parts"]
    readme = (INSTANCES / name / "README.md").read_text()
    assert "ODbL-1.0" in readme and "real" in readme and "Synthetic" in readme


def test_tiny_shape(tiny):
    assert 2 <= len(tiny.sites) <= 3 and len(tiny.jobs) <= 4 and tiny.n_slots <= 16
    assert tiny.links and {j.migratable for j in tiny.jobs} == {True, False}


def test_tiny_windows_and_feasibility_by_hand(tiny):
    """The figures quoted in instances/tiny/README.md.

    b: 2 kW × cf ≥ 0.1 + 1.2 · 0.6 ⇔ cf ≥ 0.41: slots 0–10 (cf 0.92 … 0.44; slot 11 is 0.40).
    a: 4 kW × cf ≥ 0.82 ⇔ cf ≥ 0.205: slots 4–15 (slot 3 is 0.18).
    j3: T_mig = 60 + 8 · 100 / (1 · 0.9) + 0.020 (+0.005 on to a) s.
    """
    windows = WindowTable(tiny)
    j1, j3 = tiny.job_index["j1"], tiny.job_index["j3"]
    a, b = tiny.site_index["a"], tiny.site_index["b"]
    assert windows(j1, b, 0) == 2.75 and windows(j3, b, 3) == 2.0 and windows(j3, b, 11) == 0
    assert windows(j3, a, 3) == 0 and windows(j3, a, 4) == 3.0 and windows(j3, a, 5) == 2.75
    net = Network(tiny)
    p = tiny.params
    job1, job3 = tiny.jobs[j1], tiny.jobs[j3]
    to_b, to_a = net.route("c", "b"), net.route("c", "a")
    assert to_a.path == ("c", "b", "a") and to_a.bandwidth_gbps == 1.0
    assert migration_time_s(p, job1.checkpoint_gb, to_b) == pytest.approx(60 + 16 / 0.9 + 0.02)
    assert is_feasible(p, job1, to_b, tiny.sites[b], 2.75)
    t_mig = migration_time_s(p, job3.checkpoint_gb, to_a)
    assert t_mig == pytest.approx(60 + 800 / 0.9 + 0.025)
    # depart slot 2 → arrives in slot 3 (to b: window 2 h, 720 s < T_mig: infeasible)
    assert slot_of_moment(arrival_moment_h(2, t_mig, 0.25), 0.25) == 3
    assert not is_feasible(p, job3, to_b, tiny.sites[b], windows(j3, b, 3))
    # depart slot 4 → arrives in slot 5 (to a: window 2.75 h, 990 s ≥ T_mig: feasible)
    moment = arrival_moment_h(4, t_mig, 0.25)
    assert slot_of_moment(moment, 0.25) == 5
    assert is_feasible(p, job3, to_a, tiny.sites[a], windows(j3, a, 5), tau_h=moment - 1.25)
    # j2 is not migratable
    assert not tiny.jobs[tiny.job_index["j2"]].migratable


def test_default_shape(default):
    p = default.params
    assert p == Parameters(horizon_h=72.0, start=p.start, meta=p.meta)  # SPEC defaults
    assert default.n_slots == 288 and len(default.sites) >= 6 and len(default.jobs) >= 30
    kinds = {profile_info(s.profile).kind for s in default.sites}
    assert kinds == {"pv", "wind"}
    sizes = [j.checkpoint_gb for j in default.jobs]
    assert min(sizes) <= 1.5 and max(sizes) >= 150
    assert any(not j.migratable for j in default.jobs)
    assert any(j.deadline_h is not None for j in default.jobs)
    graph = build_graph(default)
    n = len(default.sites)
    assert graph.number_of_edges() < n * (n - 1) // 2
    bandwidths = {lk.bandwidth_gbps for lk in default.links}
    assert min(bandwidths) == 1 and max(bandwidths) == 100


def test_default_has_windows_of_hours(default):
    stats = window_statistics(default)
    assert (stats["count"] > 0).all()
    assert (stats["mean_h"] >= 3).sum() >= 3


def test_default_has_moves_only_small_checkpoints_can_make(default):
    """Somewhere a large checkpoint over a 1 Gbps route meets a window that is open but shorter
    than 10 · T_mig, while a 1 GB checkpoint could make the same move: the frontier the
    energy-greedy policy ignores."""
    net = Network(default)
    windows = WindowTable(default).hours
    p = default.params
    frontier = 0
    for j, job in enumerate(default.jobs):
        if not job.migratable or job.checkpoint_gb < 100:
            continue
        for (_src, dst), route in net.routes.items():
            if route.bandwidth_gbps > 1:
                continue
            t_mig = migration_time_s(p, job.checkpoint_gb, route)
            w = windows[j, default.site_index[dst]]
            open_but_short = (w > 0) & (w * 3600 * p.alpha < t_mig)
            small = migration_time_s(p, 1.0, route)
            frontier += int((open_but_short & (w * 3600 * p.alpha >= small)).sum())
    assert frontier > 0
