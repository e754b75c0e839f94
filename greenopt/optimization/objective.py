r"""The MILP's objective recomputed from a schedule, so any schedule (the MILP's own, a heuristic's)
is scored the same way over the whole horizon from the initial state:

$$
\Delta \sum_{s,t} g_{s,t} + \sum E_\text{mig}
  + \mathrm{slowdown\_weight} \cdot \text{delay}
  + \sum_j \pi_j\, \ell_j(T)
  + \mathrm{deadline\_price} \sum_{j:\ D_j \le T\Delta} \ell_j(D_j),
$$

where

$$
g_{s,t} = \max\Big(\mathrm{idle\_kw}_s + \text{pue}_s \sum_j \mathrm{power\_kw}_j\,
  \text{run}_{j,s,t} - R_{s,t},\ 0\Big)
$$

is the simulator's grid power, $T$ the number of slots, $\text{cum}_j(t)$ the hours job $j$
computed through slot $t$, $\ell_j(\cdot)$ its work left at the horizon end or missing at its
deadline $D_j$, $\pi_j$ its terminal price (:func:`terminal_prices`), and the delay over the
slots $t$ from the job's arrival slot to the last slot

$$
\text{flow:}\ \ \sum_j \sum_t \Delta\, \frac{W_j - \text{cum}_j(t)}{W_j},
\qquad
\text{exact:}\ \ \sum_j \sum_t \frac{\Delta}{W_j}\, [\text{cum}_j(t) < W_j].
$$"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from greenopt.feasibility import migration_energy_kwh, migration_time_s
from greenopt.instance import Instance
from greenopt.network import Network
from greenopt.schedule import Schedule, arrival_moment_h, slot_of_moment
from greenopt.simulation.timeline import WORK_TOL_H
from greenopt.state import schedule_arrays


class ObjectiveSettings(Protocol):
    delay_term: str
    terminal_price: float | None
    deadline_price: float


def terminal_prices(instance: Instance, settings: ObjectiveSettings) -> np.ndarray:
    r"""kWh per hour of work left at the window end, per job: ``settings.terminal_price``, or by
    default

    $$
    \pi_j = \min_s \text{pue}_s \cdot \mathrm{power\_kw}_j
      + \frac{\mathrm{slowdown\_weight}}{\mathrm{work\_h}_j},
    $$

    the least grid energy that finishes an hour of it, plus the slowdown one more hour adds."""
    jobs = instance.jobs
    if settings.terminal_price is not None:
        return np.full(len(jobs), float(settings.terminal_price))
    pue = min((s.pue for s in instance.sites), default=1.0)
    weight = instance.params.slowdown_weight
    return np.array([pue * j.power_kw + weight / j.work_h for j in jobs], float)


def objective_terms(
    instance: Instance,
    schedule: Schedule,
    settings: ObjectiveSettings,
    network: Network | None = None,
) -> dict[str, float]:
    """The objective's terms (kWh; ``delay`` unweighted) and their sum ``objective``."""
    network = network or Network(instance)
    params, dt, n_slots = instance.params, instance.dt_h, instance.n_slots
    run, site = schedule_arrays(instance, schedule)
    ids = [s.site_id for s in instance.sites]

    it_kw = np.zeros((len(ids), n_slots))
    j_idx, t_idx = np.nonzero(site >= 0)
    power = np.array([job.power_kw for job in instance.jobs])
    np.add.at(it_kw, (site[j_idx, t_idx], t_idx), power[j_idx] * run[j_idx, t_idx])
    idle = np.array([s.idle_kw for s in instance.sites])[:, None]
    pue = np.array([s.pue for s in instance.sites])[:, None]
    grid = np.clip(idle + pue * it_kw - instance.renewable_kw, 0, None)

    migration = 0.0
    starts = {}  # (job, slot) -> moment computing may start in a checkpoint's arrival slot
    for row in schedule.migrations.itertuples(index=False):
        j = instance.job_index[row.job_id]
        route = network.route(row.src, row.dst)
        gb = instance.jobs[j].checkpoint_gb
        t_mig = migration_time_s(params, gb, route) if route is not None else float(row.transfer_s)
        migration += migration_energy_kwh(params, gb, t_mig)
        moment = arrival_moment_h(int(row.depart_slot), float(row.transfer_s), dt)
        starts[j, slot_of_moment(moment, dt)] = moment

    cum = np.cumsum(run, axis=1) * dt
    prices = terminal_prices(instance, settings)
    delay = terminal = deadline = 0.0
    for j, job in enumerate(instance.jobs):
        first = instance.arrival_slot(job)
        left = np.clip(job.work_h - cum[j, first:], 0, None)
        if settings.delay_term == "exact":
            delay += dt / job.work_h * float(np.sum(left > WORK_TOL_H))
        else:
            delay += dt / job.work_h * float(left.sum())
        terminal += prices[j] * float(left[-1]) if len(left) else prices[j] * job.work_h
        d = job.deadline_h
        if d is not None and d <= n_slots * dt + 1e-9:
            k = slot_of_moment(d, dt)
            done = cum[j, k - 1] if k > 0 else 0.0
            if k < n_slots:
                start = starts.get((j, k), k * dt)
                if k == first:
                    start = max(start, job.arrival_h)
                done += min(run[j, k] * dt, max(0.0, d - start))
            deadline += settings.deadline_price * max(0.0, job.work_h - done)
    terms = {
        "energy_kwh": float(grid.sum() * dt),
        "migration_kwh": migration,
        "delay": delay,
        "terminal_kwh": float(terminal),
        "deadline_kwh": float(deadline),
    }
    terms["objective"] = (
        terms["energy_kwh"] + migration + params.slowdown_weight * delay + terminal + deadline
    )
    return terms


def schedule_objective(
    instance: Instance,
    schedule: Schedule,
    simulation_result: Any | None,
    settings: ObjectiveSettings,
) -> float:
    """The MILP objective of ``schedule`` on ``instance``. With a (valid) simulation result its
    ``nre_kwh`` (= Δ·Σ g + Σ E_mig) is used for the energy terms; without one they are computed
    here by the same formulas."""
    terms = objective_terms(instance, schedule, settings)
    if simulation_result is None:
        return terms["objective"]
    if not simulation_result.valid:
        raise ValueError("cannot score an invalid schedule (see its violations)")
    energy = terms["energy_kwh"] + terms["migration_kwh"]
    return terms["objective"] - energy + float(simulation_result.metrics["nre_kwh"])
