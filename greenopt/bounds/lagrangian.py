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

The per-job networks and their shortest paths are in :mod:`greenopt.bounds.paths`; column
generation is in :mod:`greenopt.bounds.columns`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from greenopt.bounds.paths import (
    JobNetworks,
    PathSolution,
    job_networks,
    shortest_paths,
)
from greenopt.instance import Instance


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
