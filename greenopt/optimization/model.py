r"""The scheduling MILP (SPEC §6, reference formulation) for one window of slots.

Notation: $\Delta$ is the slot length (h); $j$ runs over jobs, $s, a, b$ over sites and $t$ over
the periods of the window $[t_0, t_\text{end})$. For job $j$: $(s^0_j, e^0_j, u^0_j)$ is its
entry site, its entry slot and the usable share of that slot, $\text{rem}_j$ its remaining work
(h), $W_j$ its `work_h` and $C_j$ its candidate sites. An arc $x = (j, a, b, d)$ leaves $a$ at
the start of slot $d$ and reaches $b$ at the moment $m_x$ (h), in slot $e_x$, of which the share
$u_x$ is left; $T_x$ (s) and $E_x$ (kWh) are its transfer time and energy. Every family is one
function below; :func:`build_model` lists them.

$t$ runs over the periods of the window's :class:`~greenopt.optimization.sets.PeriodGrid`, named
by their first slot: period $t$ is $n_t$ slots long and $t^-$ is the period before it. Periods
are single slots unless the window is coarsened; then $R_{s,t}$ is the period's mean and sums
over slots weigh a period by $n_t$."""

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
    add_migration_variables(m, sets)
    add_location_variables(m, sets)
    add_run_variables(m, sets)
    add_work_variables(m, sets)
    add_grid_variables(m, sets)
    add_completion_variables(m, sets, settings)
    add_deadline_variables(m, sets)
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
    r"""Index sets: $J$ the window's jobs, $A$ the arcs (numbered), $ST$ = sites × periods,
    $DJ$ the jobs with a deadline inside the window, and

    $$
    JST = \{(j,s,t) : s \in C_j,\ e^0_j \le t < t_\text{end}\}, \qquad
    JT = \{(j,t) : e^0_j \le t < t_\text{end}\}.
    $$"""
    jst = [(j, s, t) for j in sets.jobs for s in sets.sites[j] for t in sets.slots(j)]
    jt = [(j, t) for j in sets.jobs for t in sets.slots(j)]
    st = [(s, t) for s in range(len(sets.instance.sites)) for t in sets.window]
    m.J = pyo.Set(initialize=sets.jobs, ordered=True)
    m.JST = pyo.Set(initialize=jst, dimen=3, ordered=True)
    m.JT = pyo.Set(initialize=jt, dimen=2, ordered=True)
    m.ST = pyo.Set(initialize=st, dimen=2, ordered=True)
    m.A = pyo.Set(initialize=range(len(sets.arcs)), ordered=True)
    m.DJ = pyo.Set(initialize=[j for j in sets.jobs if deadline_slot(sets, j) is not None])


def add_parameters(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""Mutable parameters a re-solve may update in place: $R_{s,t}$ the renewable power (kW) as the
    model believes it (the mean over the period), $\text{rem}_j$ the remaining work (h), and
    $\mathrm{at\_entry}_{j,s} = [s = s^0_j]$, where the job enters."""
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


def add_migration_variables(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""$\text{mig}_x \in \{0, 1\}$: arc $x$ is taken."""
    m.mig = pyo.Var(m.A, domain=pyo.Binary)


def add_location_variables(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""$\text{loc}_{j,s,t} \in [0, 1]$: the job lies at site $s$ in period $t$ (integral through
    flow conservation)."""
    m.loc = pyo.Var(m.JST, bounds=(0, 1))


def add_run_variables(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""$\text{run}_{j,s,t} \in [0, 1]$, $\le u^0_j$ at $(s^0_j, e^0_j)$: the share of period $t$
    the job computes at $s$."""
    entry = sets.entry

    def run_bounds(_m, j, s, t):
        e = entry[j]
        return (0.0, e.usable if (s, t) == (e.site, e.slot) else 1.0)

    m.run = pyo.Var(m.JST, bounds=run_bounds)


def add_work_variables(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""$\text{cum}_{j,t} \in [0, \text{rem}_j]$: hours computed in the window through $t$."""
    m.cum = pyo.Var(m.JT, bounds=lambda _m, j, t: (0, _m.rem[j]))


def add_grid_variables(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""$g_{s,t} \ge 0$: grid power (kW) of site $s$ in period $t$."""
    m.g = pyo.Var(m.ST, domain=pyo.NonNegativeReals)


def add_completion_variables(
    m: pyo.ConcreteModel, sets: WindowSets, settings: ModelSettings
) -> None:
    r"""$\text{done}_{j,t} \in \{0, 1\}$, the exact delay term only: the job is finished by $t$."""
    if settings.delay_term == "exact":
        m.done = pyo.Var(m.JT, domain=pyo.Binary)


def add_deadline_variables(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""$\text{miss}_j \ge 0$ for $j \in DJ$: work (h) missing at a deadline inside the window."""
    m.miss = pyo.Var(m.DJ, domain=pyo.NonNegativeReals)


# ---- constraints ---------------------------------------------------------------------------


def add_flow_conservation(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""Flow conservation over each job's time-expanded network: the job lies at one site or is in
    flight.

    $$
    \text{loc}_{j,s,t} = \text{loc}_{j,s,t^-}
      - \sum_{x = (j,s,\cdot,t)} \text{mig}_x
      + \sum_{x = (j,\cdot,s,\cdot):\ e_x = t} \text{mig}_x
      \qquad \forall (j,s,t) \in JST,
    $$

    with $\text{loc}_{j,s,t^-} = \mathrm{at\_entry}_{j,s}$ in the entry slot $e^0_j$."""
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
    r"""A checkpoint arriving at $a$ inside slot $d$ ($u_x < 1$) keeps the job at $a$ through slot
    $d$, so the next departure is no earlier than the arrival moment; wherever arcs also leave
    $(j,a,d)$:

    $$
    \text{loc}_{j,a,d} \ge \sum_{x \text{ into } (j,a,d):\ u_x < 1} \text{mig}_x .
    $$

    At integer points the run limit already implies it ($\text{loc} \ge (1 - u_x)\,\text{mig}_x$
    with $\text{loc}$ integral); stated outright it tightens the LP relaxation."""
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
    r"""Compute only where the job lies, and in a checkpoint's arrival slot only after it arrives:

    $$
    \text{run}_{j,s,t} \le \text{loc}_{j,s,t}
      - \sum_{x \text{ into } (j,s,t)} (1 - u_x)\,\text{mig}_x
    \qquad \forall (j,s,t) \in JST .
    $$"""
    into, arcs = sets.arcs_in, sets.arcs

    def rule(m, j, s, t):
        late = sum((1.0 - arcs[x].usable) * m.mig[x] for x in into.get((j, s, t), ()))
        return m.run[j, s, t] <= m.loc[j, s, t] - late

    m.run_limit = pyo.Constraint(m.JST, rule=rule)


def add_gpu_capacity(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""GPU capacity, stated only where the jobs that could be at $s$ in $t$ might not fit:

    $$
    \sum_{j} \text{gpus}_j\, \text{run}_{j,s,t} \le \text{gpus}_s .
    $$"""
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
    r"""Per directed link $l$ and period $t$, the checkpoint volume of the arcs whose route uses
    $l$, spread evenly over each transfer interval $I_x = [d\Delta, d\Delta + T_x/3600)$ (the
    simulator's rule, SPEC §4), fits what the link carries:

    $$
    \sum_{x = (j,a,b,d):\ l \in \text{route}(a,b)}
      \mathrm{checkpoint\_gb}_j \, \frac{|I_x \cap t|}{|I_x|}\, \text{mig}_x
    \le n_t \cdot \frac{\mathrm{bandwidth\_gbps}_l \cdot \mathrm{link\_efficiency}
      \cdot \Delta \cdot 3600}{8} - V_{l,t},
    $$

    $V_{l,t}$ being the volume of transfers already under way. Stated only where the arcs could
    exceed it."""
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
    r"""Hours computed in the window, cumulated ($\text{cum}_{j,t} \le \text{rem}_j$ by its bound):

    $$
    \text{cum}_{j,t} = \text{cum}_{j,t^-} + n_t \Delta \sum_{s \in C_j} \text{run}_{j,s,t},
    \qquad \text{cum}_{j,t^-} = 0 \text{ in the entry slot } e^0_j .
    $$"""
    dt, entry, grid = sets.instance.dt_h, sets.entry, sets.grid

    def rule(m, j, t):
        before = m.cum[j, grid.prev(t)] if t > entry[j].slot else 0.0
        hours = dt * grid.length(t)
        return m.cum[j, t] == before + hours * sum(m.run[j, s, t] for s in sets.sites[j])

    m.work = pyo.Constraint(m.JT, rule=rule)


def add_grid_energy(m: pyo.ConcreteModel, sets: WindowSets) -> None:
    r"""Site energy balance: grid power covers the load the renewables do not.

    $$
    g_{s,t} \ge \mathrm{idle\_kw}_s
      + \text{pue}_s \sum_j \mathrm{power\_kw}_j\, \text{run}_{j,s,t} - R_{s,t},
    \qquad g_{s,t} \ge 0 .
    $$"""
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
    r"""Completion indicators, for the exact delay term only:

    $$
    \text{rem}_j\, \text{done}_{j,t} \le \text{cum}_{j,t}, \qquad
    \text{done}_{j,t} \ge \text{done}_{j,t^-} .
    $$"""
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
    r"""Period $k$ containing job $j$'s deadline $D$ if $t_0\Delta < D \le t_\text{end}\Delta$ and
    $D$ is after the job enters ($t_\text{end}$ if $D$ is the window end); else None: deadlines
    beyond the window are left to the terminal price."""
    deadline = sets.instance.jobs[j].deadline_h
    dt = sets.instance.dt_h
    if deadline is None or not sets.t0 * dt < deadline <= sets.t_end * dt + 1e-9:
        return None
    if deadline <= sets.entry[j].ready_h:
        return None
    return sets.grid.period(slot_of_moment(deadline, dt))


def deadline_bounds(m: pyo.ConcreteModel, sets: WindowSets, j: int) -> list:
    r"""Lower bounds of $\text{miss}_j$ for a deadline $D$ in period $k$. The work done by $D$ in
    period $k$ is at most $D - \text{start}_k$, computing starting no earlier than the period,
    the job's entry or its checkpoint's arrival:

    $$
    \begin{aligned}
    \text{miss}_j &\ge \text{rem}_j - \text{cum}_{j,k} \qquad (k < t_\text{end}),\\
    \text{miss}_j &\ge \text{rem}_j - \text{cum}_{j,k^-} - (D - \text{start}_k)^+
      + \sum_{x \text{ arriving in } k} \min(D - k\Delta,\ m_x - k\Delta)\, \text{mig}_x ,
    \end{aligned}
    $$

    with $\text{start}_k = \max(k\Delta, \text{ready}_j)$ in the entry period and $k\Delta$
    otherwise, $\text{cum} = 0$ before $e^0_j$, and $k^-$ the last period when
    $k = t_\text{end}$."""
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
    r"""Work missing at the deadline: $\text{miss}_j \ge 0$ and $\ge$ each of
    :func:`deadline_bounds`."""
    keys = [(j, i) for j in m.DJ for i in range(len(deadline_bounds(m, sets, j)))]
    m.missed_work = pyo.Constraint(
        keys, rule=lambda m, j, i: m.miss[j] >= deadline_bounds(m, sets, j)[i]
    )


# ---- objective --------------------------------------------------------------------------------


def add_objective(m: pyo.ConcreteModel, sets: WindowSets, settings: ModelSettings) -> None:
    r"""The objective (kWh): grid energy, migration energy, the weighted delay, a terminal price
    $\pi_j$ (:func:`~greenopt.optimization.objective.terminal_prices`) for work left at the
    window end, and a deadline price for work missing at a deadline:

    $$
    \min\ \Delta \sum_{(s,t) \in ST} n_t\, g_{s,t} + \sum_{x \in A} E_x\, \text{mig}_x
      + \mathrm{slowdown\_weight} \cdot \text{delay}
      + \sum_j \pi_j \left(\text{rem}_j - \text{cum}_{j,\text{last}}\right)
      + \mathrm{deadline\_price} \sum_j \text{miss}_j ,
    $$

    with the delay term chosen by the `delay_term` setting:

    $$
    \text{flow:}\ \ \sum_j \frac{\Delta}{W_j} \sum_t n_t
      \left(\text{rem}_j - \text{cum}_{j,t}\right),
    \qquad
    \text{exact:}\ \ \sum_j \frac{\Delta}{W_j} \sum_t n_t \left(1 - \text{done}_{j,t}\right),
    $$

    $t$ running over the slots from the job's arrival (or $t_0$) to $t_\text{end}$, with
    $\text{cum} = 0$ and $\text{done} = 0$ before $e^0_j$."""
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
