"""Lagrangian relaxation of the full model into per-job shortest paths (scales where the LP does
not fit). Flow delay term only.

The coupling rows of the full model (:mod:`greenopt.optimization.model`, every site, a departure
at every slot) and each job's work and deadline rows are priced:

* site energy balance g[s,t] ≥ idle_s + pue_s·Σ_j power_j·run[j,s,t] − R[s,t] with λ[s,t] ∈ [0, Δ]
  (then Δ·g − λ·g ≥ 0 is minimised by g = 0);
* GPU capacity Σ_j gpus_j·run[j,s,t] ≤ gpus_s with μ[s,t] ≥ 0;
* work cum[j,last] ≤ rem_j with π_j ≥ 0 (cum ≤ rem earlier follows, run ≥ 0);
* missed deadline work miss_j ≥ b_0, b_1 (:func:`~greenopt.optimization.model.deadline_bounds`)
  with ρ0_j, ρ1_j ≥ 0, ρ0_j + ρ1_j ≤ deadline_price (then the miss term is minimised at 0).

Link capacity is dropped (its price fixed at 0). What remains decomposes by job: a path through
the job's time-expanded network (entry, staying, migration arcs that are feasible per SPEC §3 at
their arrival slot) and run[j,s,t] ∈ [0, cap] at the nodes of the path (cap = 1, or the usable
share of an entry or mid-slot arrival slot), with a linear cost per node c[j,s,t]·run and per arc.
For a fixed path the best run is cap·[c < 0]; so the job's minimum is a shortest path with node
weight cap·min(c, 0), solved exactly by dynamic programming over slots (numpy, all jobs at once).

Why it is a lower bound: for any multipliers in the ranges above, L(λ, μ, π, ρ) = Σ_j (job j's
shortest path) + constants is at most the objective of every point of the full model (weak
duality: each priced row contributes price × (a non-positive slack)), so at most the MILP optimum
and at most every valid schedule's score (see :mod:`greenopt.bounds.lp`). The best L over the
iterations is reported. As the per-job problem is an integral network problem, the maximum over
multipliers equals the LP relaxation without the link capacity rows (at most the full LP value).
Prices come from column generation (:func:`column_bound`: the master LP over the paths found so
far, solved by HiGHS; its duals price the next round, and it converges to that maximum) or from
subgradient ascent (:func:`lagrangian_bound`, slow).

Arc timing follows the model: an arc departing at the start of slot d arrives at slot d + k with
k = ⌊T_mig/(3600Δ)⌋ and usable share u = 1 − frac; an arrival on a slot boundary (u = 1) may
depart again in its arrival slot, one inside a slot only from the next. Boundary tests lean to the
permissive side (a shade looser, never tighter than the model).
"""

from __future__ import annotations

import time
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


@dataclass
class Multipliers:
    """Prices of the relaxed rows (module docstring)."""

    lam: np.ndarray  # (S,T) in [0, Δ]
    mu: np.ndarray  # (S,T) ≥ 0
    pi: np.ndarray  # (J,) ≥ 0
    rho0: np.ndarray  # (J,) ≥ 0
    rho1: np.ndarray  # (J,) ≥ 0, ρ0 + ρ1 ≤ deadline_price

    def as_vector(self) -> np.ndarray:
        return np.concatenate([self.lam.ravel(), self.mu.ravel(), self.pi, self.rho0, self.rho1])


@dataclass
class Problem:
    """Instance data the Lagrangian needs besides the job networks."""

    net: JobNetworks
    renewable: np.ndarray  # (S,T)
    idle: np.ndarray
    pue: np.ndarray
    site_gpus: np.ndarray
    weight: float
    deadline_price: float
    has_rho1: np.ndarray  # (J,) bool: deadline slot k < T
    has_rho0: np.ndarray


def problem(instance: Instance, settings: Any) -> Problem:
    net = job_networks(instance, settings.feasibility_filter, settings)
    sites = instance.sites
    return Problem(
        net=net,
        renewable=np.asarray(instance.renewable_kw, float),
        idle=np.array([s.idle_kw for s in sites], float),
        pue=np.array([s.pue for s in sites], float),
        site_gpus=np.array([s.gpus for s in sites], float),
        weight=instance.params.slowdown_weight,
        deadline_price=settings.deadline_price,
        has_rho1=(net.dl_slot >= 0) & (net.dl_slot < net.T),
        has_rho0=net.dl_slot >= 0,
    )


def node_costs(pb: Problem, m: Multipliers) -> np.ndarray:
    """c[j,s,t] per unit of run (module docstring)."""
    net, dt, T = pb.net, pb.net.dt, pb.net.T
    t = np.arange(T)[None, :]
    credit = dt * (
        pb.weight * (dt / net.work_h)[:, None] * (T - t)
        + net.price[:, None]
        + m.rho1[:, None] * (t <= net.dl_slot[:, None])
        + m.rho0[:, None] * (t <= net.dl_slot[:, None] - 1)
    )
    energy = (m.lam * pb.pue[:, None])[None] * net.power[:, None, None]
    gpu = m.mu[None] * net.gpus[:, None, None]
    return energy + gpu + (dt * m.pi[:, None] - credit)[:, None, :]


def constant(pb: Problem, m: Multipliers) -> float:
    """The multipliers' terms that do not depend on the paths."""
    net = pb.net
    sites = float(np.sum(m.lam * (pb.idle[:, None] - pb.renewable)))
    sites -= float(np.sum(m.mu * pb.site_gpus[:, None]))
    early = np.maximum(0.0, net.dl_h - net.dl_start)
    jobs = net.rem * (net.price + m.rho1 + m.rho0 - m.pi) - m.rho0 * early
    jobs += pb.weight * (net.dt / net.work_h) * (net.T - net.first_delay) * net.rem
    return sites + float(jobs.sum())


def evaluate(pb: Problem, m: Multipliers) -> tuple[float, np.ndarray, PathSolution]:
    """L(m) and a subgradient (as :meth:`Multipliers.as_vector`) at the paths found."""
    net, dt = pb.net, pb.net.dt
    paths = shortest_paths(net, node_costs(pb, m), m.rho0 if pb.has_rho0.any() else None)
    value = constant(pb, m) + float(paths.value.sum())
    run = paths.run
    load = np.einsum("jst,j->st", run, net.power)
    g_lam = pb.idle[:, None] + pb.pue[:, None] * load - pb.renewable
    g_mu = np.einsum("jst,j->st", run, net.gpus) - pb.site_gpus[:, None]
    per_slot = run.sum(axis=1) * dt  # (J,T)
    cum = np.cumsum(per_slot, axis=1)
    g_pi = cum[:, -1] - net.rem
    k = np.clip(net.dl_slot, 0, net.T - 1)
    rows = np.arange(len(k))
    g_rho1 = np.where(pb.has_rho1, net.rem - cum[rows, k], 0.0)
    before = np.where(net.dl_slot >= 1, cum[rows, np.clip(net.dl_slot - 1, 0, net.T - 1)], 0.0)
    late = np.zeros(len(k))
    for i, arcs in enumerate(paths.arcs):
        for a, b, _d, e in arcs:
            if e == net.dl_slot[i]:
                late[i] += min(net.dl_h[i] - e * dt, net.tau[i, a, b])
    early = np.maximum(0.0, net.dl_h - net.dl_start)
    g_rho0 = np.where(pb.has_rho0, net.rem - before - early + late, 0.0)
    grad = np.concatenate([g_lam.ravel(), g_mu.ravel(), g_pi, g_rho0, g_rho1])
    return value, grad, paths


def project(pb: Problem, m: Multipliers) -> Multipliers:
    """Back into the ranges where L is a valid bound."""
    dt, cap = pb.net.dt, pb.deadline_price
    rho0 = np.where(pb.has_rho0, np.clip(m.rho0, 0.0, cap), 0.0)
    rho1 = np.where(pb.has_rho1, np.clip(m.rho1, 0.0, cap), 0.0)
    total = rho0 + rho1
    scale = np.where(total > cap, cap / np.where(total > 0, total, 1.0), 1.0)
    return Multipliers(
        np.clip(m.lam, 0.0, dt),
        np.maximum(m.mu, 0.0),
        np.maximum(m.pi, 0.0),
        rho0 * scale,
        rho1 * scale,
    )


def initial_multipliers(pb: Problem) -> Multipliers:
    """λ = Δ where the site's renewable power does not cover its idle draw plus one job, else 0;
    π_j makes running neutral (before energy) in the slot where the job would finish if it ran
    from its entry without a break."""
    net, dt, T = pb.net, pb.net.dt, pb.net.T
    need = pb.idle[:, None] + pb.pue[:, None] * float(np.median(net.power))
    lam = np.where(pb.renewable < need, dt, 0.0)
    finish = net.e0 + net.rem / dt
    pi = net.price + pb.weight * (dt / net.work_h) * np.maximum(0.0, T - finish)
    zeros = np.zeros(len(net.jobs))
    return project(pb, Multipliers(lam, np.zeros_like(lam), pi, zeros.copy(), zeros.copy()))


def unpack(pb: Problem, vector: np.ndarray) -> Multipliers:
    S, T, J = pb.renewable.shape[0], pb.net.T, len(pb.net.jobs)
    n = S * T
    return Multipliers(
        vector[:n].reshape(S, T),
        vector[n : 2 * n].reshape(S, T),
        vector[2 * n : 2 * n + J],
        vector[2 * n + J : 2 * n + 2 * J],
        vector[2 * n + 2 * J :],
    )


def lagrangian_bound(
    instance: Instance,
    settings: Any,
    deadline: float,
    target: float | None = None,
) -> dict[str, Any]:
    """Best L over subgradient ascent with Polyak steps θ·(target − L)/‖g‖² (θ halves after 10
    iterations without improvement); stops at ``settings.iterations``, at the ``deadline``
    (perf_counter), or when θ < 1e-4. ``target``: an objective to aim at (e.g. a heuristic's);
    by default 1.05 × the best L so far."""
    if settings.delay_term != "flow":
        raise ValueError("the Lagrangian bound supports the flow delay term only (use method lp)")
    started = time.perf_counter()
    pb = problem(instance, settings)
    setup_s = time.perf_counter() - started
    m = initial_multipliers(pb)
    best, best_iter, theta, stall = -np.inf, 0, 1.0, 0
    history = []
    iterations = 0
    dp_s = 0.0
    while iterations < settings.iterations and time.perf_counter() < deadline and theta > 1e-4:
        t0 = time.perf_counter()
        value, grad, _ = evaluate(pb, m)
        dp_s += time.perf_counter() - t0
        iterations += 1
        history.append(value)
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, best_iter, stall = value, iterations, 0
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2, 0
        aim = target if target is not None and target > best else best + 0.05 * abs(best) + 1e-6
        norm = float(grad @ grad)
        if norm <= 1e-18:
            break  # the paths satisfy every priced row with zero slack: L is the optimum
        step = theta * (aim - value) / norm
        m = project(pb, unpack(pb, m.as_vector() + step * grad))
    return {
        "lower_bound": float(best) if np.isfinite(best) else None,
        "iterations": iterations,
        "best_iteration": best_iter,
        "final_theta": theta,
        "setup_s": setup_s,
        "dp_s_per_iteration": dp_s / max(iterations, 1),
        "relaxed": "link capacity dropped; energy balance, GPU capacity, work and deadline rows "
        "priced",
        "target": target,
        "n_jobs": len(pb.net.jobs),
        "history_first_last": [history[0], history[-1]] if history else [],
    }


class ColumnMaster:
    """The Dantzig–Wolfe master of the same relaxation, whose row duals are the multipliers:
    min Δ·Σ g + Σ cost_p·x_p + deadline_price·Σ miss over convex combinations x of each job's
    paths found so far, with the priced rows (energy balance, GPU capacity where it may bind, work,
    deadline rows b_0, b_1). Its optimal duals lie in the multipliers' ranges (g and miss are its
    columns), so L at them is a valid bound; at convergence L equals the master's value, the LP
    relaxation without link rows."""

    def __init__(self, pb: Problem, threads: int, seed: int):
        from greenopt.bounds.lp import quiet_highs

        net, dt = pb.net, pb.net.dt
        S, T, J = pb.renewable.shape[0], net.T, len(net.jobs)
        self.pb, self.S, self.T, self.J = pb, S, T, J
        h = quiet_highs()
        options = {
            "threads": threads,
            "random_seed": seed,
            "solver": "simplex",
            "presolve": "off",
            "simplex_strategy": 4,
        }
        for key, value in options.items():
            h.setOptionValue(key, value)
        self.h = h
        inf = highspy_inf()
        # rows: grid (S·T, ≥), gpu (binding pairs, ≤), work (J, ≤), convexity (J, =), b0, b1 (≥)
        grid_lower = (pb.idle[:, None] - pb.renewable).ravel()
        n_grid = S * T
        total_gpus = float(net.gpus.sum())
        gpu_sites = [s for s in range(S) if total_gpus > pb.site_gpus[s]]
        self.gpu_row = {s: i for i, s in enumerate(gpu_sites)}
        n_gpu = len(gpu_sites) * T
        early = np.maximum(0.0, net.dl_h - net.dl_start)
        self.b0_jobs = np.flatnonzero(pb.has_rho0)
        self.b1_jobs = np.flatnonzero(pb.has_rho1)
        lower = np.concatenate(
            [
                grid_lower,
                np.full(n_gpu, -inf),
                np.full(J, -inf),
                np.ones(J),
                (net.rem - early)[self.b0_jobs],
                net.rem[self.b1_jobs],
            ]
        )
        upper = np.concatenate(
            [
                np.full(n_grid, inf),
                np.repeat(pb.site_gpus[gpu_sites], T) if gpu_sites else np.zeros(0),
                net.rem,
                np.ones(J),
                np.full(len(self.b0_jobs), inf),
                np.full(len(self.b1_jobs), inf),
            ]
        )
        self.offsets = np.cumsum([0, n_grid, n_gpu, J, J, len(self.b0_jobs)])
        h.addRows(len(lower), lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), [])
        # g[s,t] columns (cost Δ) and miss_j columns (cost deadline_price)
        idx = np.arange(n_grid, dtype=np.int32)
        h.addCols(
            n_grid, np.full(n_grid, dt), np.zeros(n_grid), np.full(n_grid, inf), n_grid,
            idx, idx, np.ones(n_grid),
        )  # fmt: skip
        miss_rows = [
            *(self.offsets[4] + i for i in range(len(self.b0_jobs))),
            *(self.offsets[5] + i for i in range(len(self.b1_jobs))),
        ]
        miss_jobs = [*self.b0_jobs, *self.b1_jobs]
        for job in np.unique(miss_jobs) if miss_jobs else []:
            rows = np.array([r for r, j in zip(miss_rows, miss_jobs, strict=True) if j == job])
            h.addCols(
                1, np.array([pb.deadline_price]), np.zeros(1), np.array([inf]), len(rows),
                np.array([0], np.int32), rows.astype(np.int32), np.ones(len(rows)),
            )  # fmt: skip
        self.b0_row = {int(j): self.offsets[4] + i for i, j in enumerate(self.b0_jobs)}
        self.b1_row = {int(j): self.offsets[5] + i for i, j in enumerate(self.b1_jobs)}
        self.n_columns = 0
        #: row duals of the last solve (None before): columns that would not price out are skipped
        self.row_dual: np.ndarray | None = None

    def add_path(self, i: int, run: np.ndarray, arcs: list[tuple[int, int, int, int]]) -> bool:
        """Add job i's path (its run (S,T) and arcs) as a column, unless its reduced cost at the
        last duals is not negative; returns whether it was added."""
        pb, net, dt, T = self.pb, self.pb.net, self.pb.net.dt, self.T
        s_idx, t_idx = np.nonzero(run)
        values = run[s_idx, t_idx]
        per_slot = np.zeros(T)
        np.add.at(per_slot, t_idx, values * dt)
        cum = np.cumsum(per_slot)
        work = float(cum[-1])
        rows = [s_idx * T + t_idx]
        coefs = [-pb.pue[s_idx] * net.power[i] * values]
        gpu = [(k, v) for k, v in zip(s_idx, range(len(values)), strict=True) if k in self.gpu_row]
        if gpu:
            sel = np.array([v for _, v in gpu])
            rows.append(
                self.offsets[1] + np.array([self.gpu_row[int(k)] for k, _ in gpu]) * T + t_idx[sel]
            )
            coefs.append(net.gpus[i] * values[sel])
        rows.append(np.array([self.offsets[2] + i, self.offsets[3] + i]))
        coefs.append(np.array([work, 1.0]))
        late = sum(
            min(net.dl_h[i] - e * dt, net.tau[i, a, b]) for a, b, _d, e in arcs
            if e == net.dl_slot[i]
        )  # fmt: skip
        k = int(net.dl_slot[i])
        if i in self.b0_row:
            rows.append(np.array([self.b0_row[i]]))
            coefs.append(np.array([(cum[k - 1] if k >= 1 else 0.0) - late]))
        if i in self.b1_row:
            rows.append(np.array([self.b1_row[i]]))
            coefs.append(np.array([cum[k]]))
        t = np.arange(T)
        delay = (
            pb.weight
            * (dt / net.work_h[i])
            * ((T - net.first_delay[i]) * net.rem[i] - float(np.sum(per_slot * (T - t))))
        )
        cost = (
            sum(net.energy[i, a, b] for a, b, _d, _e in arcs)
            + delay
            + net.price[i] * (net.rem[i] - work)
        )
        r = np.concatenate(rows).astype(np.int32)
        c = np.concatenate(coefs).astype(float)
        if self.row_dual is not None and cost - float(self.row_dual[r] @ c) >= -1e-9:
            return False
        self.h.addCols(
            1, np.array([cost]), np.zeros(1), np.array([highspy_inf()]), len(r),
            np.array([0], np.int32), r, c,
        )  # fmt: skip
        self.n_columns += 1
        return True

    def solve(self, time_limit_s: float) -> tuple[float | None, Multipliers | None]:
        """Re-solve (warm); the master's value and its duals as multipliers (None: no duals)."""
        self.h.setOptionValue("time_limit", float(max(time_limit_s, 0.05)))
        self.h.run()
        solution = self.h.getSolution()
        if not solution.dual_valid:
            return None, None
        y = np.asarray(solution.row_dual, float)
        self.row_dual = y
        o, S, T, J = self.offsets, self.S, self.T, self.J
        lam = y[: o[1]].reshape(S, T)
        mu = np.zeros((S, T))
        for s, r in self.gpu_row.items():
            mu[s] = -y[o[1] + r * T : o[1] + (r + 1) * T]
        pi = -y[o[2] : o[3]]
        rho0, rho1 = np.zeros(J), np.zeros(J)
        rho0[self.b0_jobs] = y[o[4] : o[5]]
        rho1[self.b1_jobs] = y[o[5] :]
        value = float(self.h.getInfo().objective_function_value)
        return value, project(self.pb, Multipliers(lam, mu, pi, rho0, rho1))


def highspy_inf() -> float:
    import highspy

    return float(highspy.kHighsInf)


def column_bound(
    instance: Instance, settings: Any, deadline: float, target: float | None = None
) -> dict[str, Any]:
    """Best L over column generation (:class:`ColumnMaster`): each round prices every job's
    shortest path at the master's duals — L there is a valid bound — and adds the paths as
    columns. Stops at ``settings.iterations`` rounds, the ``deadline``, or when no path has a
    negative reduced cost or L is within ``settings.gap_tol`` of the master's value (then the
    relaxation is solved)."""
    del target
    if settings.delay_term != "flow":
        raise ValueError("the Lagrangian bound supports the flow delay term only (use method lp)")
    started = time.perf_counter()
    pb = problem(instance, settings)
    master = ColumnMaster(pb, settings.threads, settings.seed)
    net = pb.net
    # start: every job stays at its entry without running (always feasible), then initial prices
    idle_run = np.zeros((len(pb.idle), net.T))
    for i in range(len(net.jobs)):
        master.add_path(i, idle_run, [])
    setup_s = time.perf_counter() - started
    m = initial_multipliers(pb)  # the master's duals once it has been solved
    stable, alpha = None, settings.smoothing
    best, best_round, rounds, master_value, mispriced = -np.inf, 0, 0, None, 0
    dp_s = master_s = 0.0
    while rounds < settings.iterations and time.perf_counter() < deadline:
        # Wentges smoothing: price between the best prices so far and the master's duals
        at = m
        if stable is not None and alpha > 0:
            at = project(pb, unpack(pb, alpha * stable.as_vector() + (1 - alpha) * m.as_vector()))
        t0 = time.perf_counter()
        value, _grad, paths = evaluate(pb, at)
        dp_s += time.perf_counter() - t0
        rounds += 1
        if value > best:
            best, best_round, stable = value, rounds, at
        if master_value is not None and best >= master_value - settings.gap_tol * max(
            1.0, abs(master_value)
        ):
            break  # L is the master's optimum (within gap_tol): the relaxation is solved
        added = sum(master.add_path(i, paths.run[i], paths.arcs[i]) for i in range(len(net.jobs)))
        if added == 0:
            if at is m:
                break  # nothing prices out at the master's duals: solved
            mispriced += 1
            alpha = 0.0 if mispriced > 3 else alpha / 2  # price closer to the master's duals
            continue
        t0 = time.perf_counter()
        master_value, duals = master.solve(deadline - time.perf_counter())
        master_s += time.perf_counter() - t0
        if duals is None:
            break
        m = duals
    return {
        "lower_bound": float(best) if np.isfinite(best) else None,
        "ascent": "columns",
        "rounds": rounds,
        "best_round": best_round,
        "mispriced_rounds": mispriced,
        "master_value": master_value,
        "columns": master.n_columns,
        "setup_s": setup_s,
        "dp_s": dp_s,
        "master_s": master_s,
        "relaxed": "link capacity dropped; energy balance, GPU capacity, work and deadline rows "
        "priced",
        "n_jobs": len(net.jobs),
    }
