"""Sparse index sets of the scheduling MILP for one window [t0, t_end) of slots.

A window starts from a :class:`WindowState` (per job: not yet arrived, at a site, in flight, or
finished; its remaining work; the moment it (re)appears at its site). The offline MILP is the
window [0, n_slots) from :meth:`WindowState.initial`.

Per job j the model only knows:

* its entry (s0, e0, u0): the site it lies at when it enters the window, the period it appears in
  and the usable share of that period; its first departure slot d0 = ⌈ready_h/Δ⌉ (≥ t0);
* its candidate sites: s0 plus the k best others by the renewable energy it could use there;
* its migration arcs (a, b, d): between candidate sites, departing at epochs d ≥ d0 (every m-th
  slot), arriving inside the window, and — with the feasibility filter — feasible (SPEC §3) on
  the instance's (forecast) renewable array at the arrival slot e = slot of dΔ + T_mig/3600.

Time is a :class:`PeriodGrid`: the window's slots, or — with coarsening — its first slots followed
by periods of ``factor`` slots further out (a lookahead's distant hours need less detail). Model
indices are period starts (absolute slot numbers); without coarsening every period is one slot.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from greenopt.feasibility import (
    TOLERANCE,
    is_feasible,
    migration_energy_kwh,
    migration_time_s,
    window_lengths,
)
from greenopt.instance import Instance
from greenopt.network import Network
from greenopt.schedule import (
    TIME_EPS,
    ScheduleBuilder,
    arrival_moment_h,
    slot_of_moment,
    transfer_volume_by_slot,
    usable_fraction,
)
from greenopt.state import WindowState


class OptimizationError(RuntimeError):
    """The model could not be built or solved to a usable schedule."""


class WindowHours:
    """W_b(t) (h, SPEC §3) of the given jobs at every site for slots t ≥ t0, indexed like
    :attr:`greenopt.feasibility.WindowTable.hours` as ``[j, b, t]`` and equal to it there (a run of
    surplus slots from t depends only on slots ≥ t), without the work for other jobs and slots."""

    def __init__(self, instance: Instance, jobs: list[int], t0: int):
        self.t0 = t0
        self.row = {j: i for i, j in enumerate(jobs)}
        R = instance.renewable_kw[:, t0:]
        idle = np.array([s.idle_kw for s in instance.sites])[None, :, None]
        pue = np.array([s.pue for s in instance.sites])[None, :, None]
        power = np.array([instance.jobs[j].power_kw for j in jobs])[:, None, None]
        self.hours = window_lengths(R[None, :, :] - idle >= pue * power - TOLERANCE, instance.dt_h)

    def __getitem__(self, key: tuple[int, int, int]) -> float:
        j, b, t = key
        if t < self.t0:
            raise IndexError(f"slot {t} is before the table's first slot {self.t0}")
        return float(self.hours[self.row[j], b, t - self.t0])


class PeriodGrid:
    """The window [t0, t_end) cut into periods: single slots in [t0, coarse_start), then periods of
    ``factor`` slots (the last may be shorter). Periods are named by their first slot."""

    def __init__(self, t0: int, t_end: int, coarse_start: int | None = None, factor: int = 1):
        cut = t_end if coarse_start is None or factor <= 1 else max(t0, min(coarse_start, t_end))
        self.t0, self.t_end, self.coarse_start = t0, t_end, cut
        self.starts = [*range(t0, cut), *range(cut, t_end, max(1, factor))]
        bounds = [*self.starts, t_end]
        self._length = {a: b - a for a, b in zip(bounds, bounds[1:], strict=False)}
        self._prev = dict(zip(self.starts[1:], self.starts, strict=False))
        self._of_slot = np.repeat(self.starts, np.diff(bounds)) if self.starts else np.zeros(0, int)

    def period(self, slot: int) -> int:
        """Start of the period holding ``slot`` (t_end for slots at or past the window end)."""
        return int(self._of_slot[slot - self.t0]) if slot < self.t_end else self.t_end

    def length(self, start: int) -> int:
        """Slots in the period starting at ``start``."""
        return self._length[start]

    def prev(self, start: int) -> int:
        """Start of the period before (t0 − 1 before the first)."""
        return self._prev.get(start, start - 1)

    def usable(self, moment_h: float, start: int, dt_h: float) -> float:
        """Share of the period starting at ``start`` after ``moment_h`` (1 at or before it)."""
        length = self.length(start)
        return float(min(1.0, max(0.0, (start + length - moment_h / dt_h) / length)))

    def from_(self, slot: int) -> list[int]:
        """Period starts from the period holding ``slot`` to the window end."""
        first = self.period(slot)
        return [p for p in self.starts if p >= first]


@dataclass(frozen=True)
class Arc:
    """Migration of job ``job`` from site ``src`` to ``dst`` departing at the start of slot
    ``depart``; it arrives at ``arrive_h`` in period ``arrive`` of which ``usable`` remains."""

    job: int
    src: int
    dst: int
    depart: int
    arrive: int
    arrive_h: float
    usable: float
    transfer_s: float
    energy_kwh: float
    feasible: bool
    #: (directed link index, slot, GB in flight on it in that slot)
    loads: tuple[tuple[int, int, float], ...]


@dataclass(frozen=True)
class Entry:
    """How job j enters the window: at ``site`` in period ``slot`` with ``usable`` of it left, from
    moment ``ready_h``; first possible departure ``first_depart``; delay counted from
    ``first_delay_slot``."""

    site: int
    slot: int
    usable: float
    ready_h: float
    first_depart: int
    first_delay_slot: int
    remaining_h: float


@dataclass
class WindowSets:
    """Every sparse index set and coefficient table the model needs (see module docstring)."""

    instance: Instance
    t0: int
    t_end: int
    jobs: list[int]
    entry: dict[int, Entry]
    sites: dict[int, list[int]]
    arcs: list[Arc]
    links: list[tuple[str, str]]
    #: capacity (GB) per directed link index and absolute slot, after committed transfers
    link_capacity: np.ndarray
    arcs_out: dict[tuple[int, int, int], list[int]] = field(default_factory=dict)
    arcs_in: dict[tuple[int, int, int], list[int]] = field(default_factory=dict)
    arcs_into_slot: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    grid: PeriodGrid | None = None

    def __post_init__(self) -> None:
        if self.grid is None:
            self.grid = PeriodGrid(self.t0, self.t_end)

    def slots(self, j: int) -> list[int]:
        """Periods in which job j may lie at a site and compute: from e0 to the window end."""
        return self.grid.from_(self.entry[j].slot)

    @property
    def window(self) -> list[int]:
        """Every period of the window."""
        return self.grid.starts

    def holds(self, builder: ScheduleBuilder) -> bool:
        """Whether the model can take ``builder`` as a start: its migrations departing in the
        window's fine part are all arcs (:func:`build_sets` added them if :class:`MoveCheck`
        allowed; a start's moves in coarse periods are dropped, see
        :func:`~greenopt.optimization.solution.truncate_start`)."""
        arcs = {(a.job, a.src, a.dst, a.depart) for a in self.arcs}
        return start_moves(builder, self.t0, min(self.t_end, self.grid.coarse_start)) <= arcs


def start_moves(builder: ScheduleBuilder, t0: int, t_end: int) -> set[tuple[int, int, int, int]]:
    """(job, src, dst, depart_slot) of the builder's migrations departing in [t0, t_end)."""
    return {
        (mv.job, mv.src, mv.dst, mv.depart_slot)
        for mv in builder.migrations
        if t0 <= mv.depart_slot < t_end
    }


def job_entries(
    instance: Instance, state: WindowState, t_end: int, grid: PeriodGrid | None = None
) -> dict[int, Entry]:
    """Entry of each unfinished job that appears before ``t_end`` (see :class:`Entry`)."""
    dt, t0 = instance.dt_h, state.t0
    grid = grid or PeriodGrid(t0, t_end)
    if len(state.jobs) != len(instance.jobs):
        raise OptimizationError(f"state has {len(state.jobs)} jobs, instance {len(instance.jobs)}")
    entries = {}
    for j, js in enumerate(state.jobs):
        if js.status == "finished" or js.remaining_h <= TIME_EPS:
            continue
        if not 0 <= js.site < len(instance.sites):
            raise OptimizationError(f"job {instance.jobs[j].job_id}: site index {js.site} unknown")
        if js.status == "at_site":
            if js.ready_h > t0 * dt + TIME_EPS:
                raise OptimizationError(
                    f"job {instance.jobs[j].job_id} is at_site but appears only at {js.ready_h} h, "
                    f"after the window start {t0 * dt} h (in flight or pending?)"
                )
            ready = js.ready_h
        elif js.ready_h < t0 * dt - TIME_EPS:
            raise OptimizationError(
                f"job {instance.jobs[j].job_id} is {js.status} but appears at {js.ready_h} h, "
                f"before the window start {t0 * dt} h"
            )
        else:
            ready = js.ready_h
        slot = max(t0, slot_of_moment(ready, dt))
        if slot >= t_end:
            continue
        first_slot, slot = slot, grid.period(slot)
        entries[j] = Entry(
            site=js.site,
            slot=slot,
            usable=grid.usable(ready, slot, dt),
            ready_h=ready,
            first_depart=max(t0, int(math.ceil(ready / dt - TIME_EPS))),
            first_delay_slot=first_slot if js.status == "pending" else t0,
            remaining_h=js.remaining_h,
        )
    return entries


def usable_renewable_kwh(instance: Instance, j: int, site: int, slots: range) -> float:
    """Renewable energy (kWh) job j alone could draw at ``site`` over ``slots``:
    Σ_t min(max(R[s,t] − idle_s, 0), pue_s · power_j) · Δ."""
    s = instance.sites[site]
    surplus = np.clip(instance.renewable_kw[site, slots.start : slots.stop] - s.idle_kw, 0, None)
    need = s.pue * instance.jobs[j].power_kw
    return float(np.minimum(surplus, need).sum() * instance.dt_h)


def candidate_sites(
    instance: Instance, network: Network, j: int, entry: Entry, t_end: int, k: int
) -> list[int]:
    """s0 plus the ``k`` connected sites (0 = all) with the most usable renewable energy
    (ties: lower index); only s0 for a non-migratable job."""
    if not instance.jobs[j].migratable:
        return [entry.site]
    ids = [s.site_id for s in instance.sites]
    others = [
        b
        for b in range(len(ids))
        if b != entry.site and network.route(ids[entry.site], ids[b]) is not None
    ]
    if k > 0:
        slots = range(entry.slot, t_end)
        score = {b: usable_renewable_kwh(instance, j, b, slots) for b in others}
        others = sorted(others, key=lambda b: (-score[b], b))[:k]
    return [entry.site, *sorted(others)]


def make_arc(
    instance: Instance,
    network: Network,
    windows: np.ndarray | WindowHours | None,
    link_index: dict[tuple[str, str], int],
    j: int,
    a: int,
    b: int,
    d: int,
    t_end: int,
    grid: PeriodGrid | None = None,
) -> Arc | None:
    """Arc (j, a, b, d), or None if a and b are not connected, the job may not migrate or it would
    arrive at or after ``t_end``. ``feasible`` is SPEC §3 on ``windows`` (W[j, b, t], from
    :class:`WindowTable` or :class:`WindowHours`; ``None`` = no filter, always feasible). New
    directed links are numbered in ``link_index``. With a ``grid``, arrival and link loads are per
    period of it."""
    params, dt = instance.params, instance.dt_h
    job, src, dst = instance.jobs[j], instance.sites[a], instance.sites[b]
    route = network.route(src.site_id, dst.site_id)
    if route is None or not job.migratable:
        return None
    transfer_s = migration_time_s(params, job.checkpoint_gb, route)
    moment = arrival_moment_h(d, transfer_s, dt)
    e = slot_of_moment(moment, dt)
    if e >= t_end:
        return None
    feasible = True
    if windows is not None:
        feasible = is_feasible(params, job, route, dst, windows[j, b, e], moment - e * dt)
    if not feasible:  # never part of the model: skip the link bookkeeping
        return Arc(j, a, b, d, e, moment, 0.0, transfer_s, 0.0, False, ())
    volumes = transfer_volume_by_slot(job.checkpoint_gb, d, transfer_s, dt)
    if grid is not None:  # volume per period
        per: dict[int, float] = defaultdict(float)
        for t, gb in volumes:
            per[grid.period(t)] += gb
        volumes, e = list(per.items()), grid.period(e)
        usable = grid.usable(moment, e, dt)
    else:
        usable = usable_fraction(moment, e, dt)
    loads = tuple(
        (link_index.setdefault(link, len(link_index)), t, gb)
        for link in route.directed_links
        for t, gb in volumes
    )
    energy = migration_energy_kwh(params, job.checkpoint_gb, transfer_s)
    return Arc(j, a, b, d, e, moment, usable, transfer_s, energy, feasible, loads)


class MoveCheck:
    """Whether the model of a window can hold a move (job, src, dst, depart_slot) — decided here
    only: the job is in the window (unfinished, appearing before its end) and may depart then
    (first_depart ≤ d < t_end); a departure in the coarse part is at a period start; the sites
    are connected and the job may migrate; it arrives inside the window; and, with a window
    table (the feasibility filter), the move is feasible (SPEC §3) there. The levers (candidate
    sites, departure epochs) play no part: a start's moves are added whatever they say."""

    def __init__(
        self,
        instance: Instance,
        network: Network,
        entries: dict[int, Entry],
        grid: PeriodGrid,
        windows: WindowHours | None,
    ):
        self.instance, self.network, self.entries = instance, network, entries
        self.grid, self.windows = grid, windows

    @classmethod
    def for_window(
        cls,
        instance: Instance,
        state: WindowState,
        t_end: int,
        *,
        feasibility_filter: bool = True,
        network: Network | None = None,
    ) -> MoveCheck:
        """The check of the window [state.t0, t_end) without coarse periods."""
        grid = PeriodGrid(state.t0, t_end)
        entries = job_entries(instance, state, t_end, grid)
        windows = WindowHours(instance, sorted(entries), state.t0) if feasibility_filter else None
        return cls(instance, network or Network(instance), entries, grid, windows)

    def arc(self, j: int, a: int, b: int, d: int) -> Arc | None:
        """The arc of the move if the model can hold it, else None."""
        grid, t_end = self.grid, self.grid.t_end
        if j not in self.entries or not self.entries[j].first_depart <= d < t_end:
            return None
        if not (d < grid.coarse_start or grid.period(d) == d):  # coarse: at period starts
            return None
        arc = make_arc(self.instance, self.network, self.windows, {}, j, a, b, d, t_end, grid)
        return arc if arc is not None and arc.feasible else None

    def holds(self, moves: Iterable[tuple[int, int, int, int]]) -> bool:
        """Whether the model can hold every one of ``moves``."""
        return all(self.arc(*move) is not None for move in moves)


def build_sets(
    instance: Instance,
    state: WindowState,
    t_end: int,
    *,
    candidate_k: int = 0,
    departure_every: int = 1,
    feasibility_filter: bool = True,
    required_moves: tuple[tuple[int, int, int, int], ...] = (),
    optional_moves: tuple[tuple[tuple[int, int, int, int], ...], ...] = (),
    network: Network | None = None,
    coarse_start: int | None = None,
    coarse_factor: int = 1,
) -> WindowSets:
    """Sparse sets for the window [state.t0, t_end) of ``instance`` (whose renewable array is what
    the model believes — actual or forecast).

    From slot ``coarse_start`` on (None = never) periods are ``coarse_factor`` slots long and
    migrations depart only at period starts (besides every m-th slot before ``coarse_start``).

    ``required_moves`` (job, src, dst, depart_slot) — e.g. a warm start's migrations — are added to
    the arcs (and their sites to the candidates) whatever the levers say; with the feasibility
    filter on they must be feasible, else :class:`OptimizationError`. Each group of
    ``optional_moves`` (e.g. another start's migrations) is added the same way if the model can
    hold all of its moves, and left out otherwise.
    """
    if not state.t0 < t_end <= instance.n_slots:
        raise OptimizationError(f"empty or out-of-range window [{state.t0}, {t_end})")
    network = network or Network(instance)
    dt = instance.dt_h
    ids = [s.site_id for s in instance.sites]
    grid = PeriodGrid(state.t0, t_end, coarse_start, coarse_factor)
    entries = job_entries(instance, state, t_end, grid)
    every = max(1, departure_every)
    cut = grid.coarse_start

    windows = WindowHours(instance, sorted(entries), state.t0) if feasibility_filter else None
    link_index: dict[tuple[str, str], int] = {}
    arcs: list[Arc] = []

    def new_arc(j: int, a: int, b: int, d: int) -> Arc | None:
        return make_arc(instance, network, windows, link_index, j, a, b, d, t_end, grid)

    check = MoveCheck(instance, network, entries, grid, windows)
    required: dict[int, set[tuple[int, int, int]]] = defaultdict(set)
    for j, a, b, d in required_moves:
        if check.arc(j, a, b, d) is None:
            raise OptimizationError(
                f"required move of job {instance.jobs[j].job_id} {ids[a]}->{ids[b]} at slot "
                f"{d} is not possible in this model (before the job may depart, arriving past "
                "the window, not at a period start, no route, or infeasible under the "
                "feasibility filter)"
            )
        required[j].add((a, b, d))
    for group in optional_moves:
        if check.holds(group):
            for j, a, b, d in group:
                required[j].add((a, b, d))
    sites: dict[int, list[int]] = {}
    for j, entry in entries.items():
        cands = set(candidate_sites(instance, network, j, entry, t_end, candidate_k))
        for a, b, _ in required[j]:
            cands |= {a, b}
        sites[j] = sorted(cands, key=lambda s: (s != entry.site, s))

    coarse_epochs = [p for p in grid.starts if p >= cut]
    for j, entry in entries.items():
        chosen: set[tuple[int, int, int]] = set()
        first = entry.first_depart
        epochs = [
            *range(first + (-first) % every, cut, every),
            *(p for p in coarse_epochs if p >= first),
        ]
        for a in sites[j]:
            for b in sites[j]:
                if a == b:
                    continue
                for d in epochs:
                    arc = new_arc(j, a, b, d)
                    if arc is None:  # no route, or arriving past the window (and so all later d)
                        break
                    if arc.feasible:
                        arcs.append(arc)
                        chosen.add((a, b, d))
        arcs.extend(new_arc(j, a, b, d) for a, b, d in sorted(required[j] - chosen))

    links = sorted(link_index, key=link_index.__getitem__)
    capacity = np.array(
        [[network.link_capacity_gb(u, v)] * instance.n_slots for u, v in links], float
    ).reshape(len(links), instance.n_slots)
    # transfers already under way at the window start keep their share of the links
    for j, js in enumerate(state.jobs):
        if js.status != "in_flight" or js.src < 0:
            continue
        route = network.route(ids[js.src], ids[js.site])
        if route is None:
            raise OptimizationError(f"job {instance.jobs[j].job_id} in flight without a route")
        gb = instance.jobs[j].checkpoint_gb
        for t, vol in transfer_volume_by_slot(gb, js.depart_slot, js.transfer_s, dt):
            for link in route.directed_links:
                if t >= state.t0 and link in link_index:
                    capacity[link_index[link], t] -= vol

    out = WindowSets(
        instance, state.t0, t_end, sorted(entries), entries, sites, arcs, links, capacity, grid=grid
    )
    for i, arc in enumerate(arcs):
        out.arcs_out.setdefault((arc.job, arc.src, arc.depart), []).append(i)
        out.arcs_in.setdefault((arc.job, arc.dst, arc.arrive), []).append(i)
        out.arcs_into_slot.setdefault((arc.job, arc.arrive), []).append(i)
    return out
