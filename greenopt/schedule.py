"""Schedules in the one form every policy produces (SPEC §4), and a builder for policies.

A :class:`Schedule` is two tables: ``assignment`` (job_id, slot, site, run_fraction; site is
``None`` while in transit) and ``migrations`` (job_id, depart_slot, src, dst, transfer_s,
arrive_slot). Policies usually fill a :class:`ScheduleBuilder` (arrays over jobs × slots) and call
:meth:`ScheduleBuilder.to_schedule`. The files are read and written by
:mod:`greenopt.files.schedule_files`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from greenopt.instance import Instance

ASSIGNMENT_COLUMNS = ["job_id", "slot", "site", "run_fraction"]
MIGRATION_COLUMNS = ["job_id", "depart_slot", "src", "dst", "transfer_s", "arrive_slot"]

#: Slack when comparing moments in hours with slot boundaries.
TIME_EPS = 1e-9


def arrival_moment_h(depart_slot: int, transfer_s: float, dt_h: float) -> float:
    """The moment (h) a migration departing at the start of ``depart_slot`` arrives."""
    return depart_slot * dt_h + transfer_s / 3600.0


def slot_of_moment(moment_h: float, dt_h: float) -> int:
    """Slot containing a moment; a moment on a boundary belongs to the later slot."""
    return int(math.floor(moment_h / dt_h + TIME_EPS))


def usable_fraction(moment_h: float, slot: int, dt_h: float) -> float:
    """Share of ``slot`` after ``moment_h`` (1 if the moment is at or before the slot start)."""
    return float(min(1.0, max(0.0, (slot + 1) - moment_h / dt_h)))


def transfer_volume_by_slot(
    checkpoint_gb: float,
    depart_slot: int,
    transfer_s: float,
    dt_h: float,
    n_slots: int | None = None,
) -> list[tuple[int, float]]:
    """Checkpoint volume (GB) in flight in each slot: the volume is spread evenly over
    [depart_slot·Δ, depart_slot·Δ + T_mig) (SPEC §4), so slot t carries gb · overlap_t / T_mig.
    With ``n_slots``, only slots before it (a transfer may last far beyond the horizon)."""
    start = depart_slot * dt_h
    end = arrival_moment_h(depart_slot, transfer_s, dt_h)
    end_inside = min(end, n_slots * dt_h) if n_slots is not None else end
    duration = end - start
    out = []
    t = depart_slot
    while t * dt_h < end_inside - TIME_EPS:
        overlap = min(end, (t + 1) * dt_h) - max(start, t * dt_h)
        if overlap > 0:
            out.append((t, checkpoint_gb * overlap / duration))
        t += 1
    return out


@dataclass
class Schedule:
    """The two tables of SPEC §4. ``lines``, when the schedule was read from files, gives the line
    of each row per file (``assignment.csv``, ``migrations.csv``) for located messages."""

    assignment: pd.DataFrame
    migrations: pd.DataFrame
    lines: dict[str, list[int]] | None = None

    @classmethod
    def empty(cls) -> Schedule:
        return cls(
            pd.DataFrame(columns=ASSIGNMENT_COLUMNS), pd.DataFrame(columns=MIGRATION_COLUMNS)
        )


@dataclass
class MigrationRecord:
    job: int
    depart_slot: int
    src: int
    dst: int
    transfer_s: float

    def arrive_slot(self, dt_h: float) -> int:
        return slot_of_moment(arrival_moment_h(self.depart_slot, self.transfer_s, dt_h), dt_h)


@dataclass
class ScheduleBuilder:
    """Array form of a schedule: ``site[j, t]`` (site index, −1 in transit) and ``run[j, t]``.

    Policies fill it slot by slot; :meth:`to_schedule` emits the rows SPEC §4 requires (from each
    job's arrival slot through its completion slot, or the last slot).
    """

    instance: Instance
    site: np.ndarray = field(init=False)
    run: np.ndarray = field(init=False)
    migrations: list[MigrationRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        n_jobs, n_slots = len(self.instance.jobs), self.instance.n_slots
        origin = [self.instance.site_index[j.origin] for j in self.instance.jobs]
        self.site = np.repeat(np.array(origin, int)[:, None], n_slots, axis=1)
        self.run = np.zeros((n_jobs, n_slots))

    def copy(self) -> ScheduleBuilder:
        """An independent copy (arrays and migration list copied)."""
        clone = copy.copy(self)
        clone.site, clone.run = self.site.copy(), self.run.copy()
        clone.migrations = list(self.migrations)
        return clone

    def add_migration(self, job: int, depart_slot: int, dst: int, transfer_s: float) -> int:
        """Record a move departing at the start of ``depart_slot``; the job is in transit until its
        arrival slot and at ``dst`` from then on. Returns the arrival slot."""
        src = int(self.site[job, depart_slot])
        rec = MigrationRecord(job, depart_slot, src, dst, transfer_s)
        arrive = rec.arrive_slot(self.instance.dt_h)
        self.migrations.append(rec)
        self.site[job, depart_slot:arrive] = -1
        self.site[job, arrive:] = dst
        return arrive

    def completion_slots(self) -> np.ndarray:
        """Slot in which each job's computed hours reach work_h (last slot if never)."""
        dt = self.instance.dt_h
        out = np.full(len(self.instance.jobs), self.instance.n_slots - 1)
        cum = np.cumsum(self.run, axis=1) * dt
        for j, job in enumerate(self.instance.jobs):
            hit = np.flatnonzero(cum[j] >= job.work_h - 1e-9)
            if len(hit):
                out[j] = hit[0]
        return out

    def to_schedule(self) -> Schedule:
        inst = self.instance
        ids = [s.site_id for s in inst.sites]
        last = self.completion_slots()
        rows = []
        for j, job in enumerate(inst.jobs):
            for t in range(inst.arrival_slot(job), int(last[j]) + 1):
                s = int(self.site[j, t])
                rows.append((job.job_id, t, ids[s] if s >= 0 else None, float(self.run[j, t])))
        assignment = pd.DataFrame(rows, columns=ASSIGNMENT_COLUMNS)
        # an object column keeps None for "in transit" (pandas 3 would infer "str" and store NaN)
        assignment["site"] = pd.Series([r[2] for r in rows], dtype=object)
        dt = inst.dt_h
        mig_rows = [
            (
                inst.jobs[m.job].job_id,
                m.depart_slot,
                ids[m.src],
                ids[m.dst],
                m.transfer_s,
                m.arrive_slot(dt),
            )
            for m in sorted(self.migrations, key=lambda m: (m.job, m.depart_slot))
        ]
        migrations = pd.DataFrame(mig_rows, columns=MIGRATION_COLUMNS)
        return Schedule(assignment, migrations)
