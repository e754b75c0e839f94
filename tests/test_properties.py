"""Property-based checks (hypothesis) of invariants that hold for any input."""

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenopt.generate import generate_instance
from greenopt.instance import slot_means
from greenopt.network import find_route
from greenopt.policies import make_policy
from greenopt.policies.heuristics import HEURISTICS
from greenopt.simulation import simulate

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    sites=st.integers(2, 5),
    jobs=st.integers(1, 10),
    seed=st.integers(0, 10_000),
    name=st.sampled_from(sorted(HEURISTICS)),
)
def test_every_greedy_schedule_on_a_generated_instance_is_valid(sites, jobs, seed, name):
    inst = generate_instance(sites, jobs, 1, seed)
    result = simulate(inst, make_policy(name).plan(inst).schedule)
    assert result.valid, result.violations[:3]
    # energy balance: what the sites drew is renewable used plus grid
    assert np.allclose(result.load_kw, result.renewable_used_kw + result.grid_kw)


@st.composite
def weighted_graphs(draw):
    n = draw(st.integers(2, 6))
    nodes = [f"s{i}" for i in range(n)]
    pairs = list(itertools.combinations(nodes, 2))
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=len(pairs), unique=True))
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    for a, b in chosen:
        graph.add_edge(
            a,
            b,
            bandwidth_gbps=draw(st.sampled_from([1.0, 10.0, 25.0, 100.0])),
            latency_ms=draw(st.integers(0, 20)),
        )
    return graph


@SETTINGS
@given(graph=weighted_graphs())
def test_route_is_a_widest_path_of_least_latency(graph):
    nodes = sorted(graph.nodes)
    for a, b in itertools.permutations(nodes, 2):
        route = find_route(graph, a, b)
        paths = list(nx.all_simple_paths(graph, a, b))
        if not paths:
            assert route is None
            continue

        def width(p):
            return min(graph.edges[u, v]["bandwidth_gbps"] for u, v in itertools.pairwise(p))

        def latency(p):
            return sum(graph.edges[u, v]["latency_ms"] for u, v in itertools.pairwise(p))

        best = max(width(p) for p in paths)
        assert route.bandwidth_gbps == best
        assert route.latency_ms == min(latency(p) for p in paths if width(p) == best)
        assert route.path[0] == a and route.path[-1] == b
        assert find_route(graph, b, a).path == route.path[::-1]


@SETTINGS
@given(
    steps=st.lists(st.floats(0.05, 2.0), min_size=1, max_size=30),
    values=st.lists(st.floats(0.0, 1.0), min_size=31, max_size=31),  # one per breakpoint
    slot_minutes=st.sampled_from([5.0, 15.0, 60.0]),
)
def test_slot_means_keep_the_energy_of_a_step_trace(steps, values, slot_minutes):
    times = np.concatenate([[0.0], np.cumsum(steps)])  # breakpoints, last value held one step
    ends = np.append(times[1:], times[-1] + (times[-1] - times[-2] if len(times) > 1 else 1.0))
    dt = slot_minutes / 60
    n_slots = int(np.floor(ends[-1] / dt + 1e-9))
    if n_slots == 0:
        return
    trace = pd.DataFrame({"cf": values[: len(times)]}, index=times)
    means = slot_means(trace, dt, n_slots)["cf"].to_numpy()
    # integral of the step function over [0, n_slots·Δ) equals Σ means · Δ
    horizon = n_slots * dt
    overlap = np.clip(np.minimum(ends, horizon) - times, 0, None)
    expected = float(np.dot(trace["cf"].to_numpy(), overlap))
    assert means.sum() * dt == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert means.min() >= -1e-12 and means.max() <= 1 + 1e-12
