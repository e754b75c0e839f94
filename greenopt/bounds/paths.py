"""Each job's time-expanded network in the full model and its shortest paths by dynamic
programming over slots (numpy, all jobs at once): the subproblem of the Lagrangian bound
(:mod:`greenopt.bounds.lagrangian`).

Arc timing follows the model: an arc departing at the start of slot d arrives at slot d + k with
k = ⌊T_mig/(3600Δ)⌋ and usable share u = 1 − frac; an arrival on a slot boundary (u = 1) may
depart again in its arrival slot, one inside a slot only from the next. Boundary tests lean to the
permissive side (a shade looser, never tighter than the model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from greenopt.feasibility import (
    break_even_h,
    migration_energy_kwh,
    migration_time_s,
    within_window,
)
from greenopt.instance import Instance, Parameters
from greenopt.network import Network
from greenopt.optimization.objective import terminal_prices
from greenopt.optimization.sets import WindowHours, job_entries
from greenopt.schedule import TIME_EPS, slot_of_moment
from greenopt.state import WindowState

#: permissive margin on boundary tests (share of a slot, hours)
SLACK = 1e-9


@dataclass
class JobNetworks:
    """Every job's time-expanded network, stacked: J jobs (those entering the horizon) × S sites ×
    T slots; arcs as (J, S, S) tables (a → b), the same for every departure slot."""

    params: Parameters
    jobs: np.ndarray  # instance job indices
    T: int
    dt: float
    e0: np.ndarray
    s0: np.ndarray
    u0: np.ndarray
    first_depart: np.ndarray
    first_delay: np.ndarray
    rem: np.ndarray
    work_h: np.ndarray
    power: np.ndarray
    gpus: np.ndarray
    price: np.ndarray
    allowed: np.ndarray  # (J,S,S) bool: a route, a ≠ b, job migratable
    shift: np.ndarray  # (J,S,S) int k
    usable: np.ndarray  # (J,S,S) u; 1 = boundary arrival
    tau: np.ndarray  # (J,S,S) hours of the arrival slot before arrival
    t_mig: np.ndarray  # (J,S,S) s
    t_be: np.ndarray  # (J,S,S) h
    energy: np.ndarray  # (J,S,S) kWh
    window: np.ndarray | None  # (J,S,T) W_b(t) h; None = no feasibility filter
    # deadlines (k = −1: none in the horizon)
    dl_slot: np.ndarray
    dl_h: np.ndarray
    dl_start: np.ndarray  # start_k of deadline_bounds


def job_networks(instance: Instance, feasibility_filter: bool, settings: Any) -> JobNetworks:
    """Tabulate the networks of every job entering the horizon (module docstring)."""
    dt, T = instance.dt_h, instance.n_slots
    params = instance.params
    entries = job_entries(instance, WindowState.initial(instance), T)
    jobs = np.array(sorted(entries), int)
    S, J = len(instance.sites), len(jobs)
    network = Network(instance)
    ids = [s.site_id for s in instance.sites]
    routes = {(a, b): network.route(ids[a], ids[b]) for a in range(S) for b in range(S) if a != b}
    shape = (J, S, S)
    allowed = np.zeros(shape, bool)
    t_mig, t_be, energy = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for i, j in enumerate(jobs):
        job = instance.jobs[j]
        if not job.migratable:
            continue
        for (a, b), route in routes.items():
            if route is None:
                continue
            allowed[i, a, b] = True
            t_mig[i, a, b] = migration_time_s(params, job.checkpoint_gb, route)
            energy[i, a, b] = migration_energy_kwh(params, job.checkpoint_gb, t_mig[i, a, b])
            t_be[i, a, b] = break_even_h(energy[i, a, b], instance.sites[b].pue, job.power_kw)
    slots = t_mig / 3600.0 / dt
    shift = np.floor(slots + TIME_EPS).astype(int)
    usable = np.clip(shift + 1 - slots, 0.0, 1.0)
    usable = np.where(usable > 1 - SLACK, 1.0, usable)
    tau = np.clip((1.0 - usable) * dt - SLACK, 0.0, None)
    window = WindowHours(instance, list(jobs), 0).hours if feasibility_filter else None
    prices = terminal_prices(instance, settings)

    def field(fn, dtype=float):
        return np.array([fn(entries[j], instance.jobs[j], j) for j in jobs], dtype)

    dl_slot, dl_start = np.full(J, -1), np.zeros(J)
    dl_h = np.zeros(J)
    for i, j in enumerate(jobs):
        d, e = instance.jobs[j].deadline_h, entries[j]
        if d is None or not 0 < d <= T * dt + 1e-9 or d <= e.ready_h:
            continue
        k = min(slot_of_moment(d, dt), T)
        dl_slot[i], dl_h[i] = k, d
        dl_start[i] = max(k * dt, e.ready_h) if k == e.slot else k * dt
    return JobNetworks(
        params=params,
        jobs=jobs,
        T=T,
        dt=dt,
        e0=field(lambda e, _job, _j: e.slot, int),
        s0=field(lambda e, _job, _j: e.site, int),
        u0=field(lambda e, _job, _j: e.usable),
        first_depart=field(lambda e, _job, _j: e.first_depart, int),
        first_delay=field(lambda e, _job, _j: e.first_delay_slot, int),
        rem=field(lambda e, _job, _j: e.remaining_h),
        work_h=field(lambda _e, job, _j: job.work_h),
        power=field(lambda _e, job, _j: job.power_kw),
        gpus=field(lambda _e, job, _j: job.gpus),
        price=field(lambda _e, _job, j: prices[j]),
        allowed=allowed,
        shift=shift,
        usable=usable,
        tau=tau,
        t_mig=t_mig,
        t_be=t_be,
        energy=energy,
        window=window,
        dl_slot=dl_slot,
        dl_h=dl_h,
        dl_start=dl_start,
    )


@dataclass
class PathSolution:
    """Per job: its shortest-path value, and the chosen path's run (J,S,T) and arcs."""

    value: np.ndarray
    run: np.ndarray
    arcs: list[list[tuple[int, int, int, int]]]  # per job: (a, b, depart, arrive)


#: precompute the per-slot arc masks while they take at most this many bytes (else per pass)
MASK_CACHE_BYTES = 400 * 2**20


def arc_masks(net: JobNetworks, t: int) -> tuple[np.ndarray, np.ndarray]:
    """(J,S,S) masks of the arcs arriving in slot t that exist — a route, a departure no earlier
    than the job's first and within the horizon, SPEC §3 feasible at t — on a slot boundary and
    inside the slot. They do not depend on prices: tabulated once while small enough."""
    cache = net.__dict__.setdefault("_masks", {})
    if t in cache:
        return cache[t]
    depart = t - net.shift
    ok = net.allowed & (depart >= net.first_depart[:, None, None]) & (depart >= 0)
    if net.window is not None:
        ok &= within_window_arrays(net, net.window[:, None, :, t])
    masks = (ok & (net.usable >= 1.0), ok & (net.usable < 1.0))
    if 2 * ok.size * net.T <= MASK_CACHE_BYTES:
        cache[t] = masks
    return masks


def shortest_paths(
    net: JobNetworks, node_cost: np.ndarray, rho0: np.ndarray | None = None
) -> PathSolution:
    """Exact per-job minimum of Σ_nodes cap·min(c, 0) + Σ_arcs (E_mig + extra) over every path of
    the job's network. ``node_cost``: c[j,s,t] (J,S,T) per unit of run; ``rho0``: optional (J,)
    price of the deadline row b_0, whose arcs arriving in the deadline slot k cost
    ρ0·min(D − kΔ, τ) more (:func:`arc_deadline_term`)."""
    J, S, T = node_cost.shape
    inf = np.inf
    node = np.minimum(node_cost, 0.0)
    p_hist = np.full((J, S, T), inf)
    p_src = np.full((J, S, T), -1, np.int16)  # -1 stay, -2 entry, a: boundary arrival from a
    v_src = np.full((J, S, T), -1, np.int16)  # -1 from P, -3 entry mid-slot, a: mid arrival
    v = np.full((J, S), inf)
    rows = np.arange(J)
    jj = rows[:, None, None]
    aa = np.arange(S)[None, :, None]
    same_slot = net.shift == 0  # departing and arriving in one slot (mid-slot arrivals only)
    any_same = bool(same_slot.any())
    deadlines = set(net.dl_slot[net.dl_slot >= 0].tolist()) if rho0 is not None else set()
    for t in range(T):
        boundary, middle = arc_masks(net, t)
        p = v.copy()
        src = np.full((J, S), -1, np.int16)
        entering = net.e0 == t
        whole = entering & (net.u0 >= 1.0 - SLACK)
        if whole.any():
            p[rows[whole], net.s0[whole]] = 0.0
            src[rows[whole], net.s0[whole]] = -2
        # departures before t (boundary arrivals have k ≥ 1; same-slot ones are patched below)
        cost = p_hist[jj, aa, np.clip(t - net.shift, 0, T - 1)] + net.energy
        if t in deadlines:
            cost += rho0[:, None, None] * arc_deadline_term(net, t)
        cand = np.where(boundary, cost, inf)
        best_a = np.argmin(cand, axis=1)
        best = np.take_along_axis(cand, best_a[:, None, :], axis=1)[:, 0, :]
        better = best < p
        p = np.where(better, best, p)
        src = np.where(better, best_a, src).astype(np.int16)
        p_hist[:, :, t] = p
        p_src[:, :, t] = src
        # mid-slot arrivals (k = 0: departing this slot, from this slot's p)
        if any_same:
            cost = np.where(same_slot, (p[:, :, None] + net.energy), cost)
            if t in deadlines:
                extra = rho0[:, None, None] * arc_deadline_term(net, t)
                cost = np.where(same_slot, cost + extra, cost)
        cand = np.where(middle, cost + net.usable * node[:, None, :, t], inf)
        vn = p + node[:, :, t]
        vs = np.full((J, S), -1, np.int16)
        mid_entry = entering & ~whole
        if mid_entry.any():
            r, s = rows[mid_entry], net.s0[mid_entry]
            vn[r, s] = net.u0[mid_entry] * node[r, s, t]
            vs[r, s] = -3
        best_a = np.argmin(cand, axis=1)
        best = np.take_along_axis(cand, best_a[:, None, :], axis=1)[:, 0, :]
        better = best < vn
        v = np.where(better, best, vn)
        v_src[:, :, t] = np.where(better, best_a, vs)
    end_site = np.argmin(v, axis=1)
    value = v[rows, end_site]
    run, arcs = backtrack(net, node_cost, p_src, v_src, end_site)
    return PathSolution(value, run, arcs)


def arc_deadline_term(net: JobNetworks, t: int) -> np.ndarray:
    """(J,S,S): min(D − kΔ, τ) for arcs arriving in slot t = k, the job's deadline slot; else 0."""
    here = (net.dl_slot == t)[:, None, None]
    return np.where(here, np.minimum((net.dl_h - t * net.dt)[:, None, None], net.tau), 0.0)


def within_window_arrays(net: JobNetworks, window: np.ndarray) -> np.ndarray:
    """SPEC §3 feasibility of every arc (J,S,S) arriving where the window is ``window`` (J,1,S)."""
    return within_window(net.params, net.t_mig, net.t_be, window, net.tau)


def backtrack(
    net: JobNetworks,
    node_cost: np.ndarray,
    p_src: np.ndarray,
    v_src: np.ndarray,
    end_site: np.ndarray,
) -> tuple[np.ndarray, list[list[tuple[int, int, int, int]]]]:
    """The run (J,S,T) and arcs of each job's shortest path, read back from the DP's choices."""
    J, S, T = node_cost.shape
    run = np.zeros((J, S, T))
    arcs: list[list[tuple[int, int, int, int]]] = [[] for _ in range(J)]
    negative = node_cost < 0
    for i in range(J):
        s, t, phase = int(end_site[i]), T - 1, "v"
        while t >= 0:
            if phase == "v":
                code = int(v_src[i, s, t])
                if code == -1:
                    run[i, s, t] = 1.0 if negative[i, s, t] else 0.0
                    phase = "p"
                    continue
                if code == -3:
                    run[i, s, t] = net.u0[i] if negative[i, s, t] else 0.0
                    break
                a = code
                run[i, s, t] = net.usable[i, a, s] if negative[i, s, t] else 0.0
                d = t - int(net.shift[i, a, s])
                arcs[i].append((a, s, d, t))
                s, t, phase = a, d, "p"
                continue
            code = int(p_src[i, s, t])
            if code == -1:
                t, phase = t - 1, "v"
            elif code == -2:
                break
            else:
                a = code
                d = t - int(net.shift[i, a, s])
                arcs[i].append((a, s, d, t))
                s, t = a, d
        if s != net.s0[i] or t != net.e0[i]:
            raise RuntimeError(f"path of job {net.jobs[i]} does not start at its entry")
        arcs[i].reverse()
    return run, arcs
