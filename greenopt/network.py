"""The WAN: a networkx graph of sites and links, and the checkpoint route between sites (SPEC §3).

The route from a to b is a widest path (largest bottleneck bandwidth); ties go to the least summed
latency (compared after rounding to 1e-6 ms), then the fewest hops, then the lexicographically
smallest sequence of site ids searched from the endpoint whose id sorts first. The route the other
way is the reverse.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cached_property

import networkx as nx

from greenopt.instance import Instance


@dataclass(frozen=True)
class Route:
    """A checkpoint path: site ids from source to destination."""

    path: tuple[str, ...]
    bandwidth_gbps: float
    latency_ms: float

    @property
    def hops(self) -> int:
        return len(self.path) - 1

    @property
    def directed_links(self) -> tuple[tuple[str, str], ...]:
        return tuple(zip(self.path[:-1], self.path[1:], strict=True))

    def reversed(self) -> Route:
        return Route(self.path[::-1], self.bandwidth_gbps, self.latency_ms)


def build_graph(instance: Instance) -> nx.Graph:
    """Undirected graph: a node per site, an edge per link (``bandwidth_gbps``, ``latency_ms``)."""
    graph = nx.Graph()
    graph.add_nodes_from(s.site_id for s in instance.sites)
    for link in instance.links:
        graph.add_edge(
            link.a, link.b, bandwidth_gbps=link.bandwidth_gbps, latency_ms=link.latency_ms
        )
    return graph


def widest_bandwidth(graph: nx.Graph, source: str, target: str) -> float | None:
    """Bottleneck bandwidth of a widest path (maximum-capacity path), ``None`` if unconnected."""
    best = {source: float("inf")}
    heap = [(-float("inf"), source)]
    done: set[str] = set()
    while heap:
        neg_width, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        if node == target:
            return -neg_width
        for nbr, data in graph[node].items():
            width = min(-neg_width, data["bandwidth_gbps"])
            if width > best.get(nbr, -1.0):
                best[nbr] = width
                heapq.heappush(heap, (-width, nbr))
    return None


def find_route(graph: nx.Graph, a: str, b: str) -> Route | None:
    """The SPEC §3 route from ``a`` to ``b``; ``None`` if there is no path."""
    if a == b:
        return Route((a,), float("inf"), 0.0)
    src, dst = (a, b) if a <= b else (b, a)
    width = widest_bandwidth(graph, src, dst)
    if width is None:
        return None
    # Among paths using only links at least as wide as the bottleneck, every path is widest;
    # pick by (rounded latency, hops, id sequence) with a label-setting search.
    heap: list[tuple[float, int, tuple[str, ...], float]] = [(0.0, 0, (src,), 0.0)]
    settled: set[str] = set()
    while heap:
        key_lat, hops, path, latency = heapq.heappop(heap)
        node = path[-1]
        if node in settled:
            continue
        settled.add(node)
        if node == dst:
            route = Route(path, width, latency)
            return route if src == a else route.reversed()
        for nbr, data in graph[node].items():
            if nbr in settled or data["bandwidth_gbps"] < width:
                continue
            lat = latency + data["latency_ms"]
            heapq.heappush(heap, (round(lat, 6), hops + 1, (*path, nbr), lat))
    raise AssertionError("widest path vanished")  # pragma: no cover


class Network:
    """All routes of an instance, computed once."""

    def __init__(self, instance: Instance):
        self.instance = instance
        self.graph = build_graph(instance)

    @cached_property
    def routes(self) -> dict[tuple[str, str], Route]:
        """Route for every ordered pair of distinct connected sites."""
        ids = sorted(self.graph.nodes)
        out: dict[tuple[str, str], Route] = {}
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                route = find_route(self.graph, a, b)
                if route is not None:
                    out[(a, b)] = route
                    out[(b, a)] = route.reversed()
        return out

    def route(self, a: str, b: str) -> Route | None:
        return self.routes.get((a, b))

    def link_capacity_gb(self, a: str, b: str) -> float:
        """Checkpoint volume one direction of link a–b carries in one slot (GB)."""
        p = self.instance.params
        bw = self.graph.edges[a, b]["bandwidth_gbps"]
        return bw * p.link_efficiency * p.dt_h * 3600.0 / 8.0
