"""The scheduling MILP (SPEC §6, reference formulation) for one window of slots.

Notation: Δ slot length (h); j jobs, s/a/b sites, t slots of the window [t0, t_end); for job j,
(s0, e0, u0) its entry site, slot and usable share of that slot, rem_j its remaining work (h),
W_j its work_h, C_j its candidate sites; arcs x = (j, a, b, d) depart a at the start of slot d and
arrive at b at moment m_x in slot e_x, of which u_x is left; T_x, E_x their transfer time and
energy. Every family is one function below; :func:`build_model` lists them.

t runs over the periods of the window's :class:`~greenopt.optimization.sets.PeriodGrid` (named by
their first slot; n_t slots long, t⁻ the period before): single slots unless coarsened, when R[s,t]
is the period's mean and sums over slots weigh a period by n_t.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from greenopt.optimization.objective import terminal_prices
from greenopt.optimization.sets import WindowSets
from greenopt.optimization.settings import ModelSettings
from greenopt.schedule import slot_of_moment


def build_model(sets: WindowSets, settings: ModelSettings) -> pyo.ConcreteModel:
    """The whole model: index sets and parameters, variables, constraints, objective."""
    m = pyo.ConcreteModel(name=f"greenopt[{sets.t0},{sets.t_end})")
    m.window = sets  # the Python-side sets, for reading the solution back
    add_index_sets(m, sets)
    add_parameters(m, sets)
    add_variables(m, sets, settings)
    add_flow_conservation(m, sets)
    add_departure_after_arrival(m, sets)
    add_run_limits(m, sets)
    add_gpu_capacity(m, sets)
    add_link_capacity(m, sets)
    add_work(m, sets)
    add_grid_energy(m, sets)
    add_completion(m, sets, settings)
    add_deadlines(m, sets, settings)
    add_objective(m, sets, settings)
    return m


# ---- sets, parameters, variables ------------------------------------------------------------


def add_index_sets(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """J jobs in the window; JST = {(j,s,t): s ∈ C_j, e0 ≤ t < t_end}; JT = {(j,t): e0 ≤ t};
    ST = sites × window periods; A = arc numbers."""
    jst = [(j, s, t) for j in sets.jobs for s in sets.sites[j] for t in sets.slots(j)]
    jt = [(j, t) for j in sets.jobs for t in sets.slots(j)]
    st = [(s, t) for s in range(len(sets.instance.sites)) for t in sets.window]
    m.J = pyo.Set(initialize=sets.jobs, ordered=True)
    m.JST = pyo.Set(initialize=jst, dimen=3, ordered=True)
    m.JT = pyo.Set(initialize=jt, dimen=2, ordered=True)
    m.ST = pyo.Set(initialize=st, dimen=2, ordered=True)
    m.A = pyo.Set(initialize=range(len(sets.arcs)), ordered=True)


def add_parameters(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """Mutable parameters a re-solve may update in place: R[s,t] renewable power (kW) as the
    model believes it (mean over the period), rem[j] remaining work (h), at_entry[j,s] = [s = s0]
    where the job enters."""
    R, grid = sets.instance.renewable_kw, sets.grid
    m.R = pyo.Param(
        m.ST,
        mutable=True,
        initialize={(s, t): float(R[s, t : t + grid.length(t)].mean()) for s, t in m.ST},
    )
    m.rem = pyo.Param(
        m.J, mutable=True, initialize={j: sets.entry[j].remaining_h for j in sets.jobs}
    )
    js = [(j, s) for j in sets.jobs for s in sets.sites[j]]
    m.at_entry = pyo.Param(
        js, mutable=True, initialize={(j, s): float(s == sets.entry[j].site) for j, s in js}
    )


def add_variables(m: pyo.ConcreteModel, sets: WindowSets, settings: ModelSettings) -> None:
    """mig[x] ∈ {0,1}; loc[j,s,t] ∈ [0,1] (integral through flow conservation);
    run[j,s,t] ∈ [0, 1] (u0 in the entry slot at s0): share of slot t computing at s;
    cum[j,t] ∈ [0, rem_j]: hours computed in the window through slot t; g[s,t] ≥ 0 grid power (kW);
    exact delay term only: done[j,t] ∈ {0,1}; per job with a deadline in the window: miss[j] ≥ 0."""
    entry = sets.entry
    m.mig = pyo.Var(m.A, domain=pyo.Binary)
    m.loc = pyo.Var(m.JST, bounds=(0, 1))

    def run_bounds(_m, j, s, t):
        e = entry[j]
        return (0.0, e.usable if (s, t) == (e.site, e.slot) else 1.0)

    m.run = pyo.Var(m.JST, bounds=run_bounds)
    m.cum = pyo.Var(m.JT, bounds=lambda _m, j, t: (0, _m.rem[j]))
    m.g = pyo.Var(m.ST, domain=pyo.NonNegativeReals)
    if settings.delay_term == "exact":
        m.done = pyo.Var(m.JT, domain=pyo.Binary)
    m.DJ = pyo.Set(initialize=[j for j in sets.jobs if deadline_slot(sets, j) is not None])
    m.miss = pyo.Var(m.DJ, domain=pyo.NonNegativeReals)


# ---- constraints ---------------------------------------------------------------------------


def add_flow_conservation(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """loc[j,s,t] = loc[j,s,t⁻] − Σ_{x=(j,s,·,t)} mig[x] + Σ_{x=(j,·,s,·): e_x=t} mig[x], with
    loc[j,s,e0⁻] = at_entry[j,s]: the job lies at one site or is in flight."""
    out, into, entry, prev = sets.arcs_out, sets.arcs_in, sets.entry, sets.grid.prev

    def rule(m, j, s, t):
        e = entry[j]
        before = m.loc[j, s, prev(t)] if t > e.slot else m.at_entry[j, s]
        moves = sum(m.mig[x] for x in into.get((j, s, t), ())) - sum(
            m.mig[x] for x in out.get((j, s, t), ())
        )
        return m.loc[j, s, t] == before + moves

    m.flow = pyo.Constraint(m.JST, rule=rule)


def add_departure_after_arrival(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """A checkpoint arriving at a inside slot d (u_x < 1) keeps the job at a through slot d:
    loc[j,a,d] ≥ Σ_{x into (j,a,d), u_x<1} mig[x] (the next departure is no earlier than the
    arrival moment), wherever arcs also leave (j,a,d). At integer points run_limit already implies
    it (loc ≥ (1 − u_x)·mig[x] with loc integral); stated outright it tightens the LP relaxation."""
    keys = []
    for (j, a, d), xs in sets.arcs_in.items():
        mid = [x for x in xs if sets.arcs[x].usable < 1.0]
        if mid and (j, a, d) in sets.arcs_out:
            keys.append((j, a, d, tuple(mid)))
    m.stay_after_arrival = pyo.Constraint(
        range(len(keys)),
        rule=lambda m, i: m.loc[keys[i][:3]] >= sum(m.mig[x] for x in keys[i][3]),
    )


def add_run_limits(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """run[j,s,t] ≤ loc[j,s,t] − Σ_{x into (j,s,t)} (1 − u_x)·mig[x]: compute only where the job
    lies, and in a checkpoint's arrival slot only after it arrives."""
    into, arcs = sets.arcs_in, sets.arcs

    def rule(m, j, s, t):
        late = sum((1.0 - arcs[x].usable) * m.mig[x] for x in into.get((j, s, t), ()))
        return m.run[j, s, t] <= m.loc[j, s, t] - late

    m.run_limit = pyo.Constraint(m.JST, rule=rule)


def add_gpu_capacity(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """Σ_j gpus_j · run[j,s,t] ≤ gpus_s, where the jobs that could be there might not fit."""
    jobs = sets.instance.jobs
    users: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j, s, t in m.JST:
        users[s, t].append(j)
    gpus = [site.gpus for site in sets.instance.sites]
    binding = sorted(k for k, js in users.items() if sum(jobs[j].gpus for j in js) > gpus[k[0]])
    m.gpu_capacity = pyo.Constraint(
        binding,
        rule=lambda m, s, t: sum(jobs[j].gpus * m.run[j, s, t] for j in users[s, t]) <= gpus[s],
    )


def add_link_capacity(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """Per directed link l and period t: Σ_x checkpoint_gb_j · |[dΔ, dΔ+T_x) ∩ t| / T_x · mig[x]
    ≤ n_t · bandwidth · link_efficiency · Δ · 3600 / 8 (less transfers under way), over the arcs
    whose route uses l — the simulator's rule (SPEC §4); only where the arcs could exceed it."""
    terms: dict[tuple[int, int], list[tuple[int, float]]] = defaultdict(list)
    for x, arc in enumerate(sets.arcs):
        for li, t, gb in arc.loads:
            terms[li, t].append((x, gb))
    cap = sets.link_capacity
    grid = sets.grid

    def capacity(li: int, t: int) -> float:
        return float(cap[li, t : t + grid.length(t)].sum())

    binding = sorted(k for k, xs in terms.items() if sum(gb for _, gb in xs) > capacity(*k))
    m.link_capacity = pyo.Constraint(
        binding,
        rule=lambda m, li, t: sum(gb * m.mig[x] for x, gb in terms[li, t]) <= capacity(li, t),
    )


def add_work(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """cum[j,t] = cum[j,t⁻] + n_t·Δ · Σ_s run[j,s,t] (cum[j,e0⁻] = 0); cum ≤ rem_j by its bound."""
    dt, entry, grid = sets.instance.dt_h, sets.entry, sets.grid

    def rule(m, j, t):
        before = m.cum[j, grid.prev(t)] if t > entry[j].slot else 0.0
        hours = dt * grid.length(t)
        return m.cum[j, t] == before + hours * sum(m.run[j, s, t] for s in sets.sites[j])

    m.work = pyo.Constraint(m.JT, rule=rule)


def add_grid_energy(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    """g[s,t] ≥ idle_s + pue_s · Σ_j power_j · run[j,s,t] − R[s,t] (and g ≥ 0)."""
    inst = sets.instance
    users: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j, s, t in m.JST:
        users[s, t].append(j)

    def rule(m, s, t):
        site = inst.sites[s]
        it_kw = sum(inst.jobs[j].power_kw * m.run[j, s, t] for j in users.get((s, t), ()))
        return m.g[s, t] >= site.idle_kw + site.pue * it_kw - m.R[s, t]

    m.grid = pyo.Constraint(m.ST, rule=rule)


def add_completion(m: pyo.ConcreteModel, sets: WindowSets, settings: ModelSettings) -> None:
    """Exact delay term only: rem_j · done[j,t] ≤ cum[j,t] and done[j,t] ≥ done[j,t⁻]."""
    if settings.delay_term != "exact":
        return
    entry = sets.entry
    m.done_needs_work = pyo.Constraint(
        m.JT, rule=lambda m, j, t: m.rem[j] * m.done[j, t] <= m.cum[j, t]
    )
    m.done_monotone = pyo.Constraint(
        m.JT,
        rule=lambda m, j, t: (
            m.done[j, t] >= m.done[j, sets.grid.prev(t)]
            if t > entry[j].slot
            else pyo.Constraint.Skip
        ),
    )


def deadline_slot(sets: WindowSets, j: int) -> int | None:
    """Period k containing job j's deadline D if t0·Δ < D ≤ t_end·Δ and D is after the job enters
    (t_end if D is the window end; else None: deadlines beyond the window are left to the terminal
    penalty)."""
    deadline = sets.instance.jobs[j].deadline_h
    dt = sets.instance.dt_h
    if deadline is None or not sets.t0 * dt < deadline <= sets.t_end * dt + 1e-9:
        return None
    if deadline <= sets.entry[j].ready_h:
        return None
    return sets.grid.period(slot_of_moment(deadline, dt))


def deadline_bounds(m: pyo.ConcreteModel, sets: WindowSets, j: int) -> list:
    """Lower bounds of miss[j] for a deadline D in period k (the work done by D in period k is at
    most D − start_k, computing starting no earlier than the period, the job's entry or its
    checkpoint's arrival):  rem_j − cum[j,k]  (if k < t_end)  and
    rem_j − cum[j,k⁻] − (D − start_k) + Σ_{x arriving in period k} min(D − kΔ, m_x − kΔ)·mig[x],
    start_k = max(kΔ, ready_h) in the entry period, kΔ otherwise (cum = 0 before e0)."""
    dt, entry, arcs = sets.instance.dt_h, sets.entry[j], sets.arcs
    k, deadline = deadline_slot(sets, j), sets.instance.jobs[j].deadline_h

    def cum(t):
        return m.cum[j, t] if t >= entry.slot else 0.0

    start = max(k * dt, entry.ready_h) if k == entry.slot else k * dt
    late = sum(
        min(deadline - k * dt, arcs[x].arrive_h - k * dt) * m.mig[x]
        for x in sets.arcs_into_slot.get((j, k), ())
    )
    before = sets.grid.prev(k) if k < sets.t_end else sets.grid.starts[-1]
    bounds = [m.rem[j] - cum(before) - max(0.0, deadline - start) + late]
    if k < sets.t_end:
        bounds.append(m.rem[j] - cum(k))
    return bounds


def add_deadlines(m: pyo.ConcreteModel, sets: WindowSets, settings: ModelSettings) -> None:
    """miss[j] ≥ each of :func:`deadline_bounds` (and ≥ 0): work missing at the deadline."""
    keys = [(j, i) for j in m.DJ for i in range(len(deadline_bounds(m, sets, j)))]
    m.missed_work = pyo.Constraint(
        keys, rule=lambda m, j, i: m.miss[j] >= deadline_bounds(m, sets, j)[i]
    )


# ---- objective --------------------------------------------------------------------------------


def add_objective(m: pyo.ConcreteModel, sets: WindowSets, settings: ModelSettings) -> None:
    """min Δ·Σ n_t·g + Σ E_x·mig[x] + slowdown_weight·delay + Σ_j price_j·(rem_j − cum[j,last])
    + deadline_price · Σ miss, with delay (over slots from the job's arrival, or t0, to t_end;
    cum = 0 before e0):
    flow:  Σ_j (Δ/W_j) Σ_t n_t·(rem_j − cum[j,t]);   exact:  Σ_j (Δ/W_j) Σ_t n_t·(1 − done[j,t])."""
    inst, dt, grid = sets.instance, sets.instance.dt_h, sets.grid
    last, n = grid.starts[-1], grid.length
    prices = terminal_prices(inst, settings)
    m.energy_kwh = pyo.Expression(expr=dt * pyo.quicksum(n(t) * m.g[s, t] for s, t in m.ST))
    m.migration_kwh = pyo.Expression(
        expr=pyo.quicksum(arc.energy_kwh * m.mig[x] for x, arc in enumerate(sets.arcs))
    )
    delay = []
    for j in sets.jobs:
        e, scale = sets.entry[j], dt / inst.jobs[j].work_h
        before = e.slot - e.first_delay_slot  # slots counted while not yet at a site
        if settings.delay_term == "exact":
            delay.append(scale * (before + sum(n(t) * (1 - m.done[j, t]) for t in sets.slots(j))))
        else:
            waiting = (before + sets.t_end - e.slot) * m.rem[j]
            delay.append(scale * (waiting - sum(n(t) * m.cum[j, t] for t in sets.slots(j))))
    m.delay = pyo.Expression(expr=pyo.quicksum(delay))
    m.terminal_kwh = pyo.Expression(
        expr=pyo.quicksum(float(prices[j]) * (m.rem[j] - m.cum[j, last]) for j in sets.jobs)
    )
    m.deadline_kwh = pyo.Expression(
        expr=settings.deadline_price * pyo.quicksum(m.miss[j] for j in m.DJ)
    )
    m.objective = pyo.Objective(
        expr=m.energy_kwh
        + m.migration_kwh
        + inst.params.slowdown_weight * m.delay
        + m.terminal_kwh
        + m.deadline_kwh,
        sense=pyo.minimize,
    )


def model_size(m: pyo.ConcreteModel) -> dict[str, int]:
    """n_variables, n_binaries, n_constraints of the built model."""
    variables = list(m.component_data_objects(pyo.Var, active=True))
    return {
        "n_variables": len(variables),
        "n_binaries": int(np.sum([v.is_binary() for v in variables])),
        "n_constraints": sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True)),
    }
