"""The SPEC §5 metrics of a checked :class:`~greenopt.simulation.timeline.Timeline`: site power
on the actual traces, completion moments, the feasibility of each move, and the metrics table."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from greenopt.feasibility import TOLERANCE, is_feasible, migration_energy_kwh
from greenopt.schedule import TIME_EPS
from greenopt.simulation.result import METRIC_NAMES
from greenopt.simulation.timeline import Timeline


def energy_arrays(timeline: Timeline) -> None:
    """Load P = idle + pue · IT load, actual renewable R, renewable used r = min(P, R), grid g."""
    idle = np.array([s.idle_kw for s in timeline.inst.sites], float)[:, None]
    pue = np.array([s.pue for s in timeline.inst.sites], float)[:, None]
    timeline.R = np.asarray(timeline.inst.renewable_kw, float)
    timeline.P = idle + pue * timeline.it_kw
    timeline.r = np.minimum(timeline.P, timeline.R)
    timeline.g = timeline.P - timeline.r


def completion(timeline: Timeline) -> np.ndarray:
    """C_j (h): in the completion slot k, computing starts at kΔ + offset and the job needs
    work_h − (hours before k) of it; horizon_h for an unfinished job."""
    C = np.full(timeline.n_jobs, float(timeline.params.horizon_h))
    j = np.flatnonzero(timeline.finished)
    k = timeline.done_slot[j]
    before = np.where(k > 0, timeline.cum[j, np.maximum(k - 1, 0)], 0.0)
    need = np.clip(timeline.work_h[j] - before, 0.0, None)
    C[j] = (
        k * timeline.dt + timeline.offset[j, k] + np.minimum(need, timeline.run[j, k] * timeline.dt)
    )
    return C


def judge_migrations(timeline: Timeline) -> None:
    """Feasibility (SPEC §3) of each placed move on the actual traces at its arrival slot."""
    dt, T = timeline.dt, timeline.n_slots
    for mv in timeline.moves:
        if mv.arrive_slot >= T:
            continue
        site = timeline.inst.sites[mv.dst]
        job = timeline.inst.jobs[mv.job]
        ok = (
            timeline.R[mv.dst, mv.arrive_slot :] - site.idle_kw
            >= site.pue * job.power_kw - TOLERANCE
        )
        window = (len(ok) if ok.all() else int(np.argmin(ok))) * dt
        tau = mv.arrival_h - mv.arrive_slot * dt
        timeline.migration_feasible[mv.row] = is_feasible(
            timeline.params, job, mv.route, site, window, tau
        )


def metrics(timeline: Timeline, C: np.ndarray) -> dict[str, Any]:
    """The SPEC §5 metrics, in the order of ``METRIC_NAMES``, given completion moments ``C``."""
    dt, p = timeline.dt, timeline.params
    e_mig = sum(
        migration_energy_kwh(p, timeline.inst.jobs[mv.job].checkpoint_gb, mv.t_mig_s)
        for mv in timeline.moves
    )
    renewable = float(timeline.r.sum() * dt)
    nre = float(timeline.g.sum() * dt + e_mig)
    out: dict[str, Any] = {
        "nre_kwh": nre,
        "renewable_kwh": renewable,
        "renewable_share": renewable / (renewable + nre) if renewable + nre > 0 else 0.0,
        "curtailed_kwh": float((timeline.R - timeline.r).sum() * dt),
    }
    carbon = timeline.inst.carbon
    if carbon is not None:
        has = ~np.isnan(carbon)
        out["carbon_kg"] = float((timeline.g * dt * np.where(has, carbon, 0.0)).sum() / 1000)
    jct = C - timeline.arrival_h
    slowdown = jct / timeline.work_h
    n = timeline.n_jobs
    out |= {
        "jct_mean_h": float(jct.mean()) if n else 0.0,
        "jct_p95_h": float(np.percentile(jct, 95)) if n else 0.0,
        "slowdown_mean": float(slowdown.mean()) if n else 0.0,
        "slowdown_p95": float(np.percentile(slowdown, 95)) if n else 0.0,
        "slowdown_std": float(slowdown.std()) if n else 0.0,
    }
    unfinished = ~timeline.finished
    deadline = np.array(
        [math.inf if j.deadline_h is None else j.deadline_h for j in timeline.inst.jobs]
    )
    misses = (timeline.finished & (deadline + TIME_EPS < C)) | (
        unfinished & (deadline <= p.horizon_h + TIME_EPS)
    )
    out |= {
        "unfinished_jobs": int(unfinished.sum()),
        "unfinished_work_h": float((timeline.work_h - timeline.cum[:, -1])[unfinished].sum()),
        "deadline_misses": int(misses.sum()),
        "migrations": len(timeline.moves),
        "migrated_gb": float(
            sum(timeline.inst.jobs[mv.job].checkpoint_gb for mv in timeline.moves)
        ),
        "migration_downtime_h": float(sum(mv.t_mig_s for mv in timeline.moves) / 3600),
        "infeasible_migrations": int((~timeline.migration_feasible).sum()),
    }
    return {k: out[k] for k in METRIC_NAMES if k in out}
