"""Job state at a slot, and the conversions between a schedule and that state.

Policies and the optimizer share these: a window of the MILP starts from a :class:`WindowState`,
a rolling horizon derives it from what it committed (:func:`state_at`), and the greedy engine can
continue from it (:meth:`greenopt.policies.heuristics.GreedyEngine.from_state`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from greenopt.instance import Instance
from greenopt.schedule import (
    TIME_EPS,
    MigrationRecord,
    Schedule,
    ScheduleBuilder,
    arrival_moment_h,
)
from greenopt.simulation.timeline import WORK_TOL_H

JobStatus = Literal["pending", "at_site", "in_flight", "finished"]


class StateError(RuntimeError):
    """A schedule that cannot be turned into a builder or a state (moves from where a job is not,
    migrations after the state's slot)."""


@dataclass(frozen=True)
class JobState:
    """Where a job stands at the start of a slot t0.

    ``site``: where it lies (``at_site``), will lie after arrival (``pending``: its origin) or is
    heading (``in_flight``). ``ready_h``: the moment it (re)appears at ``site`` — its arrival_h, its
    checkpoint's arrival moment, or (``at_site``) its last arrival, ≤ t0·Δ; the earliest moment it
    may compute there or depart again. In flight, ``src``/``depart_slot``/``transfer_s`` describe
    the transfer under way (its link usage from t0 on is committed).
    """

    status: JobStatus
    site: int = -1
    ready_h: float = 0.0
    remaining_h: float = 0.0
    src: int = -1
    depart_slot: int = -1
    transfer_s: float = 0.0


@dataclass(frozen=True)
class WindowState:
    """State of every job (in instance order) at the start of slot ``t0``."""

    t0: int
    jobs: tuple[JobState, ...]

    @classmethod
    def initial(cls, instance: Instance) -> WindowState:
        """Slot 0: every job pending at its origin with all its work left."""
        return cls(
            0,
            tuple(
                JobState("pending", instance.site_index[j.origin], j.arrival_h, j.work_h)
                for j in instance.jobs
            ),
        )


def schedule_arrays(instance: Instance, schedule: Schedule) -> tuple[np.ndarray, np.ndarray]:
    """``run[j, t]`` and ``site[j, t]`` (site index, −1 in transit or without a row)."""
    n_jobs, n_slots = len(instance.jobs), instance.n_slots
    run, site = np.zeros((n_jobs, n_slots)), np.full((n_jobs, n_slots), -1)
    a = schedule.assignment
    if len(a):
        j = a["job_id"].map(instance.job_index).to_numpy(int)
        t = a["slot"].to_numpy(int)
        run[j, t] = a["run_fraction"].to_numpy(float)
        known = a["site"].notna().to_numpy()
        site[j[known], t[known]] = a["site"][known].map(instance.site_index).to_numpy(int)
    return run, site


def builder_from_schedule(instance: Instance, schedule: Schedule) -> ScheduleBuilder:
    """A :class:`ScheduleBuilder` holding ``schedule`` (migrations replayed in departure order)."""
    builder = ScheduleBuilder(instance)
    moves = schedule.migrations.sort_values(["depart_slot", "job_id"])
    for row in moves.itertuples(index=False):
        j = instance.job_index[row.job_id]
        if builder.site[j, int(row.depart_slot)] != instance.site_index[row.src]:
            raise StateError(f"schedule moves {row.job_id} from {row.src} where it is not")
        builder.add_migration(j, int(row.depart_slot), instance.site_index[row.dst], row.transfer_s)
    builder.run[:], _ = schedule_arrays(instance, schedule)
    return builder


def state_at(instance: Instance, builder: ScheduleBuilder, t0: int) -> WindowState:
    """The :class:`WindowState` at the start of slot ``t0`` of a schedule fixed before ``t0``
    (runs in slots < t0, migrations departing before t0; later ones are an error)."""
    dt = instance.dt_h
    if any(mv.depart_slot >= t0 for mv in builder.migrations):
        raise StateError(f"the schedule already has migrations departing at or after {t0}")
    last: dict[int, MigrationRecord] = {}
    for mv in sorted(builder.migrations, key=lambda mv: mv.depart_slot):
        last[mv.job] = mv
    states = []
    for j, job in enumerate(instance.jobs):
        remaining = job.work_h - dt * float(builder.run[j, :t0].sum())
        mv = last.get(j)
        moment = arrival_moment_h(mv.depart_slot, mv.transfer_s, dt) if mv else None
        if remaining <= WORK_TOL_H:
            states.append(JobState("finished"))
        elif job.arrival_h >= t0 * dt - TIME_EPS:
            states.append(
                JobState("pending", instance.site_index[job.origin], job.arrival_h, remaining)
            )
        elif mv is not None and moment > t0 * dt - TIME_EPS:
            states.append(
                JobState(
                    "in_flight", mv.dst, moment, remaining, mv.src, mv.depart_slot, mv.transfer_s
                )
            )
        else:
            ready = moment if mv is not None else job.arrival_h
            states.append(JobState("at_site", int(builder.site[j, t0 - 1]), ready, remaining))
    return WindowState(t0, tuple(states))
