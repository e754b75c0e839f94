"""Moving between model variables and schedules: a schedule as a MIP start (:func:`set_start`),
the solution as a :class:`WindowPlan` (:func:`read_plan`), a plan written into a
:class:`~greenopt.schedule.ScheduleBuilder` (:func:`apply_plan`) — with
:func:`greenopt.state.state_at`, the pieces a rolling horizon loop needs.

Reading back repairs solver tolerances so the simulator never sees them: run fractions are clipped
to [0, usable part of the slot], values below :data:`TINY` are zeroed, a site's GPUs are never
overfilled, and a job never computes more than its remaining work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from greenopt.optimization.model import deadline_bounds
from greenopt.optimization.sets import Arc, OptimizationError, WindowSets, start_moves
from greenopt.schedule import ScheduleBuilder

#: Run fractions below this are solver noise.
TINY = 1e-7
#: Work (h) shy of completion that reading back tops up when the slot has room.
TOP_UP_H = 1e-5


@dataclass
class WindowPlan:
    """A window's solution: chosen migrations, and per job and window slot (t − t0) the site it
    lies at (−1: in flight or not yet there) and its run fraction there."""

    t0: int
    arcs: list[Arc]
    site: np.ndarray
    run: np.ndarray


# ---- schedule -> variable values (MIP start) ----------------------------------------------------


def truncate_start(builder: ScheduleBuilder, cut: int) -> ScheduleBuilder:
    """The builder's schedule without its migrations departing at or after slot ``cut`` (a coarse
    grid cannot hold them): jobs stay where they were, and run only where the original ran them."""
    if all(mv.depart_slot < cut for mv in builder.migrations):
        return builder
    kept = ScheduleBuilder(builder.instance)
    for mv in sorted(builder.migrations, key=lambda mv: mv.depart_slot):
        if mv.depart_slot < cut:
            kept.add_migration(mv.job, mv.depart_slot, mv.dst, mv.transfer_s)
    kept.run[:] = np.where(kept.site == builder.site, builder.run, 0.0)
    return kept


def set_start(m: pyo.ConcreteModel, sets: WindowSets, builder: ScheduleBuilder) -> None:
    """Give every variable the value the builder's schedule implies (a complete MIP start):
    mig from its migrations, loc from the site at a period's last slot, run the mean over the
    period's slots of run[j,t] there, cum summed from the entry period, g = max(idle +
    pue·Σ power·run − R, 0), done = [cum ≥ rem], miss = max(0, its bounds). Migrations departing in
    the coarse part of the grid are dropped first (:func:`truncate_start`)."""
    inst, dt, grid = sets.instance, sets.instance.dt_h, sets.grid
    builder = truncate_start(builder, grid.coarse_start)
    moves = start_moves(builder, sets.t0, sets.t_end)
    for x, arc in enumerate(sets.arcs):
        m.mig[x].set_value(1.0 if (arc.job, arc.src, arc.dst, arc.depart) in moves else 0.0)
    site, run = builder.site, builder.run

    def mean_run(j: int, s: int, t: int) -> float:
        n = grid.length(t)
        return float(np.where(site[j, t : t + n] == s, run[j, t : t + n], 0.0).mean())

    for j, s, t in m.JST:
        here = site[j, t + grid.length(t) - 1] == s
        m.loc[j, s, t].set_value(1.0 if here else 0.0)
        m.run[j, s, t].set_value(mean_run(j, s, t) if here else 0.0)
    load = np.array([[site.idle_kw] * inst.n_slots for site in inst.sites], float)
    for j in sets.jobs:
        rem, cum = pyo.value(m.rem[j]), 0.0
        for t in sets.slots(j):
            s = int(site[j, t + grid.length(t) - 1])
            r = mean_run(j, s, t) if s >= 0 else 0.0
            cum = min(rem, cum + dt * grid.length(t) * r)
            m.cum[j, t].set_value(cum)
            if hasattr(m, "done"):
                m.done[j, t].set_value(1.0 if cum >= rem - 1e-9 else 0.0)
            if s >= 0:
                load[s, t] += inst.sites[s].pue * inst.jobs[j].power_kw * r
    for s, t in m.ST:
        m.g[s, t].set_value(max(0.0, float(load[s, t]) - pyo.value(m.R[s, t])))
    for j in m.DJ:
        m.miss[j].set_value(max([0.0, *(pyo.value(b) for b in deadline_bounds(m, sets, j))]))


def start_violations(m: pyo.ConcreteModel, tol: float = 1e-7) -> list[tuple[str, float]]:
    """Constraints and variable bounds/integrality the current values break by more than ``tol``
    (for checking a MIP start)."""
    out = []
    for c in m.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(c.body)
        if c.has_lb() and body < pyo.value(c.lower) - tol:
            out.append((c.name, pyo.value(c.lower) - body))
        if c.has_ub() and body > pyo.value(c.upper) + tol:
            out.append((c.name, body - pyo.value(c.upper)))
    for v in m.component_data_objects(pyo.Var, active=True):
        val = v.value
        if val is None:
            out.append((v.name, float("nan")))
            continue
        if v.has_lb() and val < pyo.value(v.lb) - tol:
            out.append((v.name, pyo.value(v.lb) - val))
        if v.has_ub() and val > pyo.value(v.ub) + tol:
            out.append((v.name, val - pyo.value(v.ub)))
        if v.is_integer() and abs(val - round(val)) > tol:
            out.append((v.name, abs(val - round(val))))
    return out


# ---- variable values -> plan -> schedule --------------------------------------------------------


def read_plan(m: pyo.ConcreteModel, sets: WindowSets) -> WindowPlan:
    """The solution loaded in ``m`` as a plan: arcs with mig > 0.5, the site with loc > 0.5 and
    the run fraction there, repeated over every slot of a coarse period. Running where the job does
    not lie (beyond TINY) is an error."""
    n_jobs, width, t0 = len(sets.instance.jobs), sets.t_end - sets.t0, sets.t0
    site = np.full((n_jobs, width), -1)
    run = np.zeros((n_jobs, width))
    arcs = [sets.arcs[x] for x in m.A if (m.mig[x].value or 0.0) > 0.5]
    n = sets.grid.length
    for j, s, t in m.JST:
        if (m.loc[j, s, t].value or 0.0) > 0.5:
            site[j, t - t0 : t - t0 + n(t)] = s
    for j, s, t in m.JST:
        value = m.run[j, s, t].value or 0.0
        if site[j, t - t0] == s:
            run[j, t - t0 : t - t0 + n(t)] = value
        elif value > 1e-6:
            raise OptimizationError(
                f"solution runs job {sets.instance.jobs[j].job_id} at site {s} in slot {t} "
                f"({value:.3g}) where it does not lie"
            )
    return WindowPlan(sets.t0, sorted(arcs, key=lambda a: (a.job, a.depart)), site, run)


def apply_plan(
    builder: ScheduleBuilder, sets: WindowSets, plan: WindowPlan, until: int | None = None
) -> None:
    """Write the plan's slots [t0, until) (default: the whole window) into ``builder``: migrations
    departing before ``until`` (transfer_s = T_mig) and repaired run fractions. The builder must
    hold the state the window started from (earlier slots, earlier migrations). Only the part of a
    window before its coarse periods can be applied."""
    inst, dt, t0 = sets.instance, sets.instance.dt_h, sets.t0
    until = sets.t_end if until is None else min(until, sets.t_end)
    if until > sets.grid.coarse_start:
        raise OptimizationError(
            f"cannot apply slots up to {until}: periods are coarse from {sets.grid.coarse_start}"
        )
    cap = np.zeros((len(inst.jobs), sets.t_end - t0))
    for arc in plan.arcs:
        if arc.depart >= until:
            continue
        src = builder.site[arc.job, arc.depart]
        if src != arc.src:
            raise OptimizationError(
                f"job {inst.jobs[arc.job].job_id} departs slot {arc.depart} from site {arc.src} "
                f"but lies at {src}"
            )
        builder.add_migration(arc.job, arc.depart, arc.dst, arc.transfer_s)
    for j in sets.jobs:
        entry = sets.entry[j]
        for t in range(entry.slot, until):
            if builder.site[j, t] != plan.site[j, t - t0]:
                raise OptimizationError(
                    f"job {inst.jobs[j].job_id}: model location {plan.site[j, t - t0]} and "
                    f"migrations ({builder.site[j, t]}) disagree in slot {t}"
                )
            cap[j, t - t0] = 1.0
        cap[j, entry.slot - t0] = entry.usable
    for arc in plan.arcs:
        if arc.depart < until and arc.arrive < until:
            cap[arc.job, arc.arrive - t0] = min(cap[arc.job, arc.arrive - t0], arc.usable)

    width = until - t0
    run = np.clip(plan.run[:, :width], 0.0, cap[:, :width])
    run[run < TINY] = 0.0
    # GPUs: scale a site's jobs down to its capacity where tolerances overfilled it
    gpus = np.array([job.gpus for job in inst.jobs], float)
    for s, site in enumerate(inst.sites):
        here = builder.site[:, t0:until] == s
        used = (gpus[:, None] * run * here).sum(axis=0)
        over = used > site.gpus
        if over.any():
            factor = np.where(over, site.gpus / np.where(over, used, 1.0), 1.0)
            run = np.where(here, run * factor[None, :], run)
    # work: never more than the remaining hours; top up a hair's breadth shy of completion
    for j in sets.jobs:
        rem = sets.entry[j].remaining_h
        cum = np.cumsum(run[j]) * dt
        if cum[-1] > rem:
            allowed = np.clip(rem - np.concatenate([[0.0], cum[:-1]]), 0, None) / dt
            run[j] = np.minimum(run[j], allowed)
            cum = np.cumsum(run[j]) * dt
        short = rem - cum[-1]
        if 0 < short < TOP_UP_H and run[j].any():
            t = int(np.flatnonzero(run[j])[-1])
            s = builder.site[j, t0 + t]
            used = sum(
                gpus[i] * run[i, t] for i in range(len(inst.jobs)) if builder.site[i, t0 + t] == s
            )
            room = min(cap[j, t] - run[j, t], (inst.sites[s].gpus - used) / gpus[j])
            run[j, t] += max(0.0, min(room, short / dt))
    builder.run[:, t0:until] = np.where(builder.site[:, t0:until] >= 0, run, 0.0)
