"""Greedy policies (SPEC §6), all driven by one slot-by-slot engine.

Each slot the engine (1) lands checkpoints that arrive in it, (2) asks the policy which jobs to move
(departing at the slot start), and (3) lets jobs compute, earliest deadline first, within the GPUs
of their site. Moves respect the links' per-slot capacity, so every greedy schedule is valid.

* ``static``: run at the origin whenever a GPU is free; never migrate.
* ``energy_greedy``: every slot, move each job to the site with the most current renewable surplus
  (after the jobs already there), ignoring migration time — the energy-driven baseline.
* ``feasibility_greedy``: move only along moves in the feasibility domain (SPEC §3) on the forecast,
  to the destination whose forecast window covers the most of the job's remaining work; a job
  queued for a GPU takes any such move to a free GPU.

``energy_greedy`` and ``feasibility_greedy`` have a ``feasibility_filter`` switch (off and on by
default): with it on, a policy only considers moves in the feasibility domain (SPEC §3), judged at
the arrival slot on the forecast the policy is given (``forecast``; ``perfect`` = the actual
traces), as the MILP judges its arcs on the traces it sees; with it off, it ranks and moves exactly
as with it on but may pick moves outside the domain. Everything else stays equal.
* ``pause_greedy``: never migrate; suspend a job while its site has no surplus for it, unless its
  deadline (or, lacking one, the horizon end) forces it to run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from greenopt.feasibility import (
    TOLERANCE,
    break_even_h,
    migration_energy_kwh,
    migration_time_s,
    transfer_time_s,
    within_window,
)
from greenopt.forecast import ForecastName, make_forecaster
from greenopt.instance import Instance
from greenopt.network import Network
from greenopt.policies.base import Policy, PolicyOutput, PolicySettings
from greenopt.schedule import (
    TIME_EPS,
    ScheduleBuilder,
    arrival_moment_h,
    slot_of_moment,
    transfer_volume_by_slot,
    usable_fraction,
)
from greenopt.state import WindowState

EPS = 1e-9


@dataclass
class JobProgress:
    """The engine's running view of one job, updated slot by slot (its state at a slot boundary
    is a :class:`greenopt.state.JobState`; :meth:`GreedyEngine.start_from` converts)."""

    site: int  # −1 while in transit
    ready_h: float  # moment from which the job may compute / depart at its site
    remaining_h: float
    arrive_slot: int = -1  # slot a checkpoint in flight lands in
    dst: int = -1


class GreedyEngine:
    """Shared slot loop; subclasses of :class:`GreedyPolicy` decide moves and pauses."""

    def __init__(self, instance: Instance, policy: GreedyPolicy, network: Network | None = None):
        self.inst = instance
        self.policy = policy
        self.net = Network(instance) if network is None else network
        self.builder = ScheduleBuilder(instance)
        self.dt = instance.dt_h
        links = sorted({dl for r in self.net.routes.values() for dl in r.directed_links})
        self.link_index = {dl: i for i, dl in enumerate(links)}
        self.link_cap = np.array([self.net.link_capacity_gb(a, b) for a, b in links])
        self.link_load = np.zeros((len(links), instance.n_slots))
        self.site_ids = [s.site_id for s in instance.sites]
        self.gpus = np.array([s.gpus for s in instance.sites])
        self.pue = np.array([s.pue for s in instance.sites])
        self.idle_kw = np.array([s.idle_kw for s in instance.sites], float)
        self.arrival_h = [j.arrival_h for j in instance.jobs]
        self.power_kw = [j.power_kw for j in instance.jobs]
        #: moves must land before this slot (the horizon end, or the end of a planning window)
        self.arrival_limit = instance.n_slots
        self.states = [
            JobProgress(instance.site_index[j.origin], j.arrival_h, j.work_h) for j in instance.jobs
        ]
        self.priority = sorted(
            range(len(instance.jobs)),
            key=lambda j: (
                instance.jobs[j].deadline_h if instance.jobs[j].deadline_h is not None else np.inf,
                instance.jobs[j].arrival_h,
                j,
            ),
        )
        policy.attach(self)

    def start_from(self, builder: ScheduleBuilder, state: WindowState) -> GreedyEngine:
        """Continue ``builder`` (a schedule fixed before ``state.t0``) from ``state``: the engine
        writes into ``builder``, takes each job's site, ready moment and remaining work from
        ``state`` (a job in flight that lands within t0 is at its destination already), and counts
        the link usage of every migration ``builder`` holds. Returns the engine."""
        self.builder = builder
        for j, js in enumerate(state.jobs):
            es = self.states[j]
            es.remaining_h = js.remaining_h
            es.ready_h = js.ready_h
            if js.status == "in_flight":
                es.site, es.dst, es.arrive_slot = -1, js.site, slot_of_moment(js.ready_h, self.dt)
                if es.arrive_slot <= state.t0:  # lands within t0: already at its destination
                    es.site = js.site
            else:
                es.site = js.site
        for mv in builder.migrations:
            route = self.net.route(self.site_ids[mv.src], self.site_ids[mv.dst])
            rows = [self.link_index[dl] for dl in route.directed_links]
            gb = self.inst.jobs[mv.job].checkpoint_gb
            for slot, volume in transfer_volume_by_slot(gb, mv.depart_slot, mv.transfer_s, self.dt):
                self.link_load[rows, slot] += volume
        return self

    # ---- helpers the policies use --------------------------------------------------------
    def present(self, t: int) -> list[int]:
        """Jobs that have arrived by the end of slot t, are not done and not in transit."""
        states, arrival_h, limit = self.states, self.arrival_h, (t + 1) * self.dt - EPS
        return [
            j
            for j in self.priority
            if arrival_h[j] < limit and states[j].site >= 0 and states[j].remaining_h > EPS
        ]

    def may_depart(self, j: int, t: int) -> bool:
        state, job = self.states[j], self.inst.jobs[j]
        return (
            job.migratable
            and state.site >= 0
            and state.remaining_h > EPS
            and t * self.dt >= state.ready_h - EPS
        )

    def try_move(self, j: int, t: int, dst: int) -> bool:
        """Depart job j at the start of slot t towards ``dst`` if the links have room."""
        state, job = self.states[j], self.inst.jobs[j]
        route = self.net.route(self.site_ids[state.site], self.site_ids[dst])
        if route is None:
            return False
        transfer_s = migration_time_s(self.inst.params, job.checkpoint_gb, route)
        moment = arrival_moment_h(t, transfer_s, self.dt)
        arrive = slot_of_moment(moment, self.dt)
        if arrive >= self.arrival_limit:
            return False
        volumes = transfer_volume_by_slot(job.checkpoint_gb, t, transfer_s, self.dt)
        rows = [self.link_index[dl] for dl in route.directed_links]
        for slot, gb in volumes:
            if np.any(self.link_load[rows, slot] + gb > self.link_cap[rows] * (1 + 1e-12)):
                return False
        for slot, gb in volumes:
            self.link_load[rows, slot] += gb
        self.builder.add_migration(j, t, dst, transfer_s)
        # a checkpoint landing within slot t is at dst already (it computes after ``moment``)
        state.site = dst if arrive == t else -1
        state.ready_h, state.arrive_slot, state.dst = moment, arrive, dst
        return True

    # ---- the loop -------------------------------------------------------------------------
    def run(self, start: int = 0, stop: int | None = None) -> ScheduleBuilder:
        """Play slots ``start`` … ``stop − 1`` (default: to the horizon end); moves land before
        ``stop``."""
        stop = self.inst.n_slots if stop is None else stop
        self.arrival_limit = stop
        for t in range(start, stop):
            self.step(t)
        return self.builder

    def step(self, t: int) -> None:
        """One slot: land arriving checkpoints, let the policy move jobs, then compute."""
        inst, dt = self.inst, self.dt
        for state in self.states:
            if state.site < 0 and state.arrive_slot == t:
                state.site = state.dst
        self.policy.move(self, t)
        gpus_free = self.gpus.astype(float)
        load = self.idle_kw.copy()
        for j in self.present(t):
            state, job = self.states[j], inst.jobs[j]
            frac = min(
                self.policy.run_limit(self, j, t, load),
                usable_fraction(state.ready_h, t, dt),
                state.remaining_h / dt,
                gpus_free[state.site] / job.gpus,
            )
            if frac <= EPS:
                continue
            self.builder.run[j, t] = frac
            state.remaining_h = max(0.0, state.remaining_h - frac * dt)
            gpus_free[state.site] -= frac * job.gpus
            load[state.site] += self.pue[state.site] * job.power_kw * frac


class GreedySettings(PolicySettings):
    """Settings shared by the greedy policies."""

    forecast: ForecastName = Field(
        "perfect",
        description="what feasibility_greedy (and the feasibility filter) believes",
    )
    forecast_error: float = Field(0.2, ge=0, description="noisy forecast: relative error at 24 h")
    seed: int = Field(0, description="seed of the noisy forecast")


FILTER_DESCRIPTION = (
    "consider only moves in the feasibility domain (SPEC §3), judged at their arrival slot on the "
    "forecast"
)


class EnergyGreedySettings(GreedySettings):
    """``energy_greedy``: the greedy settings and the feasibility filter, off by default."""

    feasibility_filter: bool = Field(False, description=FILTER_DESCRIPTION)


class FeasibilityGreedySettings(GreedySettings):
    """``feasibility_greedy``: the greedy settings and the feasibility filter, on by default."""

    feasibility_filter: bool = Field(True, description=FILTER_DESCRIPTION)


class GreedyPolicy(Policy):
    """Base of the greedy policies: run whenever a GPU is free, never move (``static``)."""

    name = "static"
    Settings = GreedySettings

    def plan(self, instance: Instance) -> PolicyOutput:
        builder = GreedyEngine(instance, self).run()
        return PolicyOutput(builder.to_schedule(), {})

    def attach(self, engine: GreedyEngine) -> None:
        """Called once by a new engine, before its first slot (tables the policy needs)."""

    def move(self, engine: GreedyEngine, t: int) -> None:
        """Depart jobs at the start of slot t (via ``engine.try_move``)."""

    def run_limit(self, engine: GreedyEngine, j: int, t: int, load: np.ndarray) -> float:
        """Largest share of slot t job j may compute (the engine also caps by arrival, remaining
        work and free GPUs); ``load`` is the site load (kW) of the jobs placed so far."""
        return 1.0


class StaticPolicy(GreedyPolicy):
    """``static``: every job computes at its origin whenever a GPU is free there and never moves
    (the baseline without migration)."""

    name = "static"


def _claims(engine: GreedyEngine, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Power (kW, with PUE) and GPUs of the unfinished jobs lying at or heading to each site in
    slot t."""
    n_sites, limit = len(engine.inst.sites), (t + 1) * engine.dt
    drawn, gpus = [0.0] * n_sites, [0.0] * n_sites
    pue, power_kw, arrival_h, jobs = (
        engine.pue.tolist(),
        engine.power_kw,
        engine.arrival_h,
        engine.inst.jobs,
    )
    for j, state in enumerate(engine.states):
        site = state.site if state.site >= 0 else state.dst
        if state.remaining_h > EPS and site >= 0 and arrival_h[j] < limit:
            drawn[site] += pue[site] * power_kw[j]
            gpus[site] += jobs[j].gpus
    return np.array(drawn), np.array(gpus)


class FeasibilityJudge(GreedyPolicy):
    """Base of the greedy policies that judge moves by SPEC §3 on a forecast issued at slot 0."""

    def judges_moves(self) -> bool:
        """Whether the policy needs the forecast windows and move tables."""
        return True

    def plan(self, instance: Instance) -> PolicyOutput:
        if self.judges_moves():
            s = self.settings
            forecaster = make_forecaster(s.forecast, s.forecast_error, s.seed)
            # one forecast issued at slot 0 (greedy policies plan on it as they go)
            self.prepare(
                instance.with_renewable(
                    forecaster.forecast(instance.renewable_kw, 0, instance.dt_h)
                )
            )
        return super().plan(instance)

    def prepare(self, forecast: Instance, first_slot: int = 0) -> None:
        """Judge moves on ``forecast`` (an instance seen through a forecast) from ``first_slot`` on.

        Keeps the forecast surplus S_b(t) = R_b(t) − idle_b and, for every slot t ≥ ``first_slot``,
        job j and site b, the first slot at or after t where S_b < PUE_b·P_j − tolerance: the SPEC
        window is W_b(t, j) = (that slot − t)·Δ, as :class:`~greenopt.feasibility.WindowTable`."""
        idle = np.array([s.idle_kw for s in forecast.sites])
        pue = np.array([s.pue for s in forecast.sites])
        power = np.array([j.power_kw for j in forecast.jobs])
        self._surplus = forecast.renewable_kw - idle[:, None]
        need = pue * power[:, None] - TOLERANCE  # [j, b]
        n = forecast.n_slots
        #: [t − first_slot, j, b]: first slot ≥ t without surplus for job j alone at site b
        self._short_from = np.empty((n - first_slot, *need.shape), np.int32)
        short = np.full(need.shape, n, np.int32)
        for t in range(n - 1, first_slot - 1, -1):
            short = np.where(self._surplus[:, t] >= need, short, np.int32(t))
            self._short_from[t - first_slot] = short
        self._first_slot = first_slot

    def attach(self, engine: GreedyEngine) -> None:
        """Tabulate every move's T_mig (s) and break-even T_be (h) by [job, source, destination]
        (SPEC §3, as :func:`~greenopt.feasibility.is_feasible` computes them)."""
        if not self.judges_moves():
            return
        inst, p = engine.inst, engine.inst.params
        n = len(inst.sites)
        bandwidth, latency = np.full((n, n), np.inf), np.zeros((n, n))
        self._routed = np.zeros((n, n), bool)  # a route from a to b ≠ a exists
        for (a, b), route in engine.net.routes.items():
            a, b = inst.site_index[a], inst.site_index[b]
            bandwidth[a, b], latency[a, b] = route.bandwidth_gbps, route.latency_ms
            self._routed[a, b] = True
        gb = np.array([j.checkpoint_gb for j in inst.jobs])[:, None, None]
        power = np.array(engine.power_kw)[:, None, None]
        self._t_mig = transfer_time_s(p, gb, bandwidth, latency)
        energy = migration_energy_kwh(p, gb, self._t_mig)
        self._t_be = break_even_h(energy, engine.pue, power)

    def _judge_moves(
        self, engine: GreedyEngine, j: int, here: int, t: int, dst: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Destinations, arrival slots, τ (h) and SPEC §3 feasibility (on the forecast) of job j's
        moves from ``here`` departing at slot t to the routed sites ``dst``, keeping those that
        land within the horizon."""
        dt, params = engine.dt, engine.inst.params
        t_mig = self._t_mig[j, here, dst]
        moment = arrival_moment_h(t, t_mig, dt)
        arrive = np.floor(moment / dt + TIME_EPS).astype(int)  # slot_of_moment, elementwise
        inside = arrive < engine.inst.n_slots
        dst, t_mig, moment, arrive = dst[inside], t_mig[inside], moment[inside], arrive[inside]
        tau = moment - arrive * dt
        window = (self._short_from[arrive - self._first_slot, j, dst] - arrive) * dt
        ok = within_window(params, t_mig, self._t_be[j, here, dst], window, tau)
        return dst, arrive, tau, ok


class EnergyGreedyPolicy(FeasibilityJudge):
    """``energy_greedy``: every slot, move each job to the site with a free GPU that keeps the most
    current renewable surplus with the job there, ignoring how long the checkpoint takes to arrive
    (the energy-driven baseline; its moves may be infeasible, SPEC §3, unless
    ``feasibility_filter`` is on)."""

    name = "energy_greedy"
    Settings = EnergyGreedySettings

    def judges_moves(self) -> bool:
        return self.settings.feasibility_filter

    def move(self, engine: GreedyEngine, t: int) -> None:
        inst = engine.inst
        drawn, claimed = _claims(engine, t)
        surplus = inst.renewable_kw[:, t] - engine.idle_kw - drawn  # after the jobs already there
        gpus, sites = engine.gpus, np.arange(len(engine.gpus))
        for j in engine.present(t):
            if not engine.may_depart(j, t):
                continue
            job, here = inst.jobs[j], engine.states[j].site
            own = engine.pue * job.power_kw
            # surplus each site would have with this job there
            with_job = surplus - own
            with_job[here] = surplus[here]
            room = (gpus - claimed >= job.gpus) | (sites == here)
            if self.settings.feasibility_filter:
                room &= self._feasible_sites(engine, j, here, t) | (sites == here)
            candidates = np.flatnonzero(room)
            best = int(candidates[np.argmax(with_job[candidates])])
            better = best != here and with_job[best] > max(with_job[here], 0.0) + EPS
            if better and engine.try_move(j, t, best):
                surplus[here] += own[here]
                surplus[best] -= own[best]
                claimed[here] -= job.gpus
                claimed[best] += job.gpus

    def _feasible_sites(self, engine: GreedyEngine, j: int, here: int, t: int) -> np.ndarray:
        """Per site: whether moving job j there from ``here`` at slot t is feasible."""
        dst, _, _, ok = self._judge_moves(engine, j, here, t, np.flatnonzero(self._routed[here]))
        feasible = np.zeros(len(engine.gpus), bool)
        feasible[dst[ok]] = True
        return feasible


class FeasibilityGreedyPolicy(FeasibilityJudge):
    """``feasibility_greedy``: move a job only by a move feasible (SPEC §3) on a forecast issued
    at slot 0 (any move landing within the horizon when ``feasibility_filter`` is off), to the
    site whose renewable window, shared with the jobs already there, covers at least a slot more of
    its remaining work than staying; a job queued for a GPU takes any such move to a free GPU."""

    name = "feasibility_greedy"
    Settings = FeasibilityGreedySettings

    def _shared_window_h(self, engine: GreedyEngine, j: int, b: int, e: int, kw: float) -> float:
        """Forecast hours from slot e during which site b, already drawing ``kw`` for its jobs,
        has surplus left for job j too (the SPEC window W ignores the other jobs)."""
        need = engine.pue[b] * engine.power_kw[j]
        short = self._surplus[b, e:] - kw < need - EPS
        first = int(short.argmax())
        return (first if short[first] else len(short)) * engine.dt

    def _feasible_moves(
        self, engine: GreedyEngine, j: int, here: int, t: int, claimed: np.ndarray
    ) -> list[tuple[int, int, float]]:
        """(destination, arrival slot, τ) of the moves of job j from ``here`` departing at slot t
        to a site with a free GPU, by destination: the feasible ones, or with the filter off all
        that land within the horizon."""
        dst = np.flatnonzero(
            self._routed[here] & (engine.gpus - claimed >= engine.inst.jobs[j].gpus)
        )
        dst, arrive, tau, ok = self._judge_moves(engine, j, here, t, dst)
        if self.settings.feasibility_filter:
            dst, arrive, tau = dst[ok], arrive[ok], tau[ok]
        return list(zip(dst.tolist(), arrive.tolist(), tau.tolist(), strict=True))

    def move(self, engine: GreedyEngine, t: int) -> None:
        """Move a job when a feasible move reaches a window that covers more of its remaining work
        than staying does. A job queued for a GPU gets nothing from staying, so it takes any
        feasible move to a free GPU, even where the other jobs already use the surplus: it then
        computes instead of waiting."""
        inst, dt = engine.inst, engine.dt
        drawn, claimed = _claims(engine, t)
        gpus, pue = engine.gpus, engine.pue
        present = engine.present(t)
        queued = set()  # jobs that would wait for a GPU where they lie (priority order)
        busy = np.zeros(len(inst.sites))
        for j in present:
            here = engine.states[j].site
            busy[here] += inst.jobs[j].gpus
            if busy[here] > gpus[here]:
                queued.add(j)
        for j in present:
            if not engine.may_depart(j, t):
                continue
            job, here = inst.jobs[j], engine.states[j].site
            remaining_h = engine.states[j].remaining_h
            own = pue[here] * job.power_kw
            stay_h = 0.0
            if j not in queued:
                stay_h = min(
                    self._shared_window_h(engine, j, here, t, drawn[here] - own), remaining_h
                )
            # a move must gain a slot of renewable running over the best so far (a queued job's
            # first feasible move needs no gain)
            best, best_gain = -1, -np.inf if j in queued else 0.0
            for b, e, tau in self._feasible_moves(engine, j, here, t, claimed):
                shared = self._shared_window_h(engine, j, b, e, drawn[b])
                gain = min(shared - tau, remaining_h) - stay_h
                if gain > best_gain + dt:
                    best, best_gain = b, gain
            if best >= 0 and engine.try_move(j, t, best):
                claimed[here] -= job.gpus
                claimed[best] += job.gpus
                drawn[here] -= own
                drawn[best] += pue[best] * job.power_kw


class PauseGreedyPolicy(GreedyPolicy):
    """``pause_greedy``: temporal shifting without migration; a job computes only while its site
    has renewable surplus for it, unless its deadline (or the horizon end) leaves no slot to
    wait."""

    name = "pause_greedy"

    def run_limit(self, engine: GreedyEngine, j: int, t: int, load: np.ndarray) -> float:
        inst, dt = engine.inst, engine.dt
        job, state = inst.jobs[j], engine.states[j]
        site = inst.sites[state.site]
        if inst.renewable_kw[state.site, t] - load[state.site] >= site.pue * job.power_kw - EPS:
            return 1.0
        latest_h = job.deadline_h if job.deadline_h is not None else inst.params.horizon_h
        slots_left = np.floor(min(latest_h, inst.params.horizon_h) / dt + EPS) - t
        return 1.0 if state.remaining_h / dt >= slots_left - 1 - EPS else 0.0


HEURISTICS: dict[str, type[GreedyPolicy]] = {
    p.name: p
    for p in (StaticPolicy, EnergyGreedyPolicy, FeasibilityGreedyPolicy, PauseGreedyPolicy)
}
