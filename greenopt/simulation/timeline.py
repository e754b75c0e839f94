"""The state the simulator steps through: a schedule's rows read into jobs × slots arrays, and
its migrations placed on each job's timeline (where the job lies, how much of each slot it may
use). Every row or move that cannot be read or placed is recorded as a violation."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from greenopt.feasibility import migration_time_s
from greenopt.files.schedule_files import ScheduleReadError
from greenopt.instance import Instance
from greenopt.network import Network, Route, build_graph, find_route
from greenopt.schedule import (
    ASSIGNMENT_COLUMNS,
    MIGRATION_COLUMNS,
    TIME_EPS,
    Schedule,
    slot_of_moment,
    usable_fraction,
)
from greenopt.simulation.result import Violation

RUN_TOL = 1e-9  # run_fraction against [0, 1] and the usable part of a slot
GPU_TOL = 1e-9  # Σ gpus·run_fraction against a site's GPUs
LINK_RTOL = 1e-9  # in-flight volume against a link's capacity per slot (relative)
WORK_TOL_H = 1e-6  # computed hours against work_h
TRANSFER_ABS_S, TRANSFER_REL = 0.01, 1e-6  # transfer_s = T_mig within 0.01 s + 1e-6·T_mig

# location codes in the jobs × slots arrays (site indices are ≥ 0)
IN_TRANSIT = -1
NOT_ARRIVED = -2
NO_ROW = -3
UNKNOWN_SITE = -4

A, M = "assignment.csv", "migrations.csv"


def _show(value: Any) -> str:
    """A cell as a person wrote it: 2, 2.5, 'abc' (never ``np.float64(2.0)``)."""
    if isinstance(value, str):
        return repr(value)
    if _missing(value):
        return "empty"
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else f"{number:g}"


# why a slot's usable part is below 1: decides the rule of a run_fraction that exceeds it
CAP_ARRIVAL, CAP_LOCATION = 1, 2


def _lookup(series: pd.Series, index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: its stripped text ('' when missing) and its position in ``index`` (NaN when
    unknown). Each distinct value is looked up once (a few ids repeat over many rows)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    names = ["" if _missing(u) else str(u).strip() for u in uniques] + [""]  # code −1: missing
    positions = np.array([index.get(name, np.nan) for name in names[:-1]] + [np.nan], float)
    return np.array(names, dtype=object)[codes], positions[codes]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_slot(values: np.ndarray, n_slots: int) -> np.ndarray:
    """Finite integral values in [0, n_slots)."""
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(values) & (values == np.round(values)) & (values >= 0) & (values < n_slots)
        )


@dataclass
class Move:
    """A migration row that could be placed on the job's timeline."""

    row: int
    job: int
    depart_slot: int
    src: int
    dst: int
    route: Route | None
    t_mig_s: float  # SPEC §3 T_mig (NaN without a route)
    transit_s: float  # duration used for the timeline (see greenopt.simulation)
    arrival_h: float
    arrive_slot: int  # the correct one, from the arrival moment


class Timeline:
    """A schedule laid over the instance as jobs × slots arrays, and the violations found so far.

    :meth:`read_rows` fills what each assignment row claims (``run``, ``row_site``, ``row_of``);
    :meth:`place_migrations` where each job lies (``loc``), how much of each slot it may use
    (``avail``, ``offset``, ``slack``, ``cap_reason``) and the placed ``moves``. The rule checks
    (:mod:`greenopt.simulation.rules`) add ``cum``, ``finished``, ``done_slot`` and ``it_kw``; the
    metrics (:mod:`greenopt.simulation.metrics`) the power arrays ``P``, ``R``, ``r``, ``g``.
    """

    def __init__(self, instance: Instance, schedule: Schedule, network: Network | None):
        self.inst = instance
        self.params = instance.params
        self.dt = instance.dt_h
        self.n_jobs, self.n_sites, self.n_slots = (
            len(instance.jobs),
            len(instance.sites),
            instance.n_slots,
        )
        self.job_ids = [j.job_id for j in instance.jobs]
        self.site_ids = [s.site_id for s in instance.sites]
        self.graph = network.graph if network is not None else build_graph(instance)
        self._routes: dict[tuple[str, str], Route | None] = {}
        self.violations: list[Violation] = []
        for name, frame, columns in (
            ("assignment", schedule.assignment, ASSIGNMENT_COLUMNS),
            ("migrations", schedule.migrations, MIGRATION_COLUMNS),
        ):
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ScheduleReadError([f"{name}.csv: missing column(s) {', '.join(missing)}"])
        self.assignment = schedule.assignment.reset_index(drop=True)
        self.migrations = schedule.migrations.reset_index(drop=True)
        self.lines = schedule.lines or {}
        jobs = instance.jobs
        self.arrival_h = np.array([j.arrival_h for j in jobs], float)
        self.arrival_slot = np.array([instance.arrival_slot(j) for j in jobs], int)
        self.work_h = np.array([j.work_h for j in jobs], float)
        self.power = np.array([j.power_kw for j in jobs], float)
        self.gpus_job = np.array([j.gpus for j in jobs], float)
        self.origin = np.array([instance.site_index[j.origin] for j in jobs], int)

    def add(self, rule: str, job: int | str | None, slot: int | None, message: str) -> None:
        job_id = self.job_ids[job] if isinstance(job, int | np.integer) else job
        self.violations.append(
            Violation(rule, job_id, None if slot is None else int(slot), message)
        )

    def at(self, file: str, row: int, column: str | None = None, otherwise: str = "") -> str:
        """``FILE:LINE:COLUMN: `` (or ``FILE:LINE: ``) of a row read from a file; ``otherwise``
        for a schedule built in memory, whose rows have no lines."""
        lines = self.lines.get(file)
        if lines is None:
            return otherwise
        return f"{file}:{lines[row]}:{column}: " if column else f"{file}:{lines[row]}: "

    def at_cell(self, j: int, t: int) -> str:
        """``assignment.csv:LINE: `` of the row of job j in slot t, if it was read from a file."""
        row = self.row_of[j, t]
        return self.at(A, row) if row >= 0 else ""

    def route(self, a: int, b: int) -> Route | None:
        key = (self.site_ids[a], self.site_ids[b])
        if key not in self._routes:
            self._routes[key] = find_route(self.graph, *key)
        return self._routes[key]

    # ---- assignment rows -> dense jobs × slots arrays ----------------------------------------
    def read_rows(self) -> None:
        J, T = self.n_jobs, self.n_slots
        a = self.assignment
        ids, job = _lookup(a["job_id"], self.inst.job_index)
        slot = pd.to_numeric(a["slot"], errors="coerce").to_numpy(float)
        site_text, site = _lookup(a["site"], self.inst.site_index)
        run = pd.to_numeric(a["run_fraction"], errors="coerce").to_numpy(float)

        known = np.isfinite(job)
        for unknown_id in pd.unique(ids[~known]):
            rows = np.flatnonzero(ids == unknown_id)
            self.add(
                "format",
                unknown_id or None,
                None,
                f"{self.at(A, rows[0], 'job_id', 'assignment: ')}unknown job_id {unknown_id!r} "
                f"({len(rows)} rows)",
            )
        good_slot = _is_slot(slot, T)
        for i in np.flatnonzero(known & ~good_slot):
            self.add(
                "format",
                int(job[i]),
                None,
                f"{self.at(A, i, 'slot', 'assignment: ')}slot {_show(a['slot'].iloc[i])} is not "
                f"a slot 0–{T - 1}",
            )
        keep = known & good_slot
        ji, ti = job[keep].astype(int), slot[keep].astype(int)
        dup = pd.Series(ji * T + ti).duplicated().to_numpy()
        for r, i, t in zip(np.flatnonzero(keep)[dup], ji[dup], ti[dup], strict=True):
            self.add(
                "format", int(i), int(t), f"{self.at(A, r, None, 'assignment: ')}duplicate row"
            )
        rows = np.flatnonzero(keep)[~dup]
        ji, ti = ji[~dup], ti[~dup]

        bad_run = ~(np.isfinite(run[rows]) & (run[rows] >= -RUN_TOL) & (run[rows] <= 1 + RUN_TOL))
        for r, i, t in zip(rows[bad_run], ji[bad_run], ti[bad_run], strict=True):
            self.add(
                "format",
                int(i),
                int(t),
                f"{self.at(A, r, 'run_fraction')}run_fraction "
                f"{_show(a['run_fraction'].iloc[r])} outside [0, 1]",
            )
        empty = site_text[rows] == ""
        unknown_site = ~empty & ~np.isfinite(site[rows])
        for r, i, t in zip(rows[unknown_site], ji[unknown_site], ti[unknown_site], strict=True):
            self.add(
                "format",
                int(i),
                int(t),
                f"{self.at(A, r, 'site', 'assignment: ')}unknown site {site_text[r]!r}",
            )
        code = np.where(
            empty,
            IN_TRANSIT,
            np.where(unknown_site, UNKNOWN_SITE, np.nan_to_num(site[rows], nan=0)),
        )

        self.run = np.zeros((J, T))
        self.run[ji, ti] = np.clip(np.nan_to_num(run[rows], nan=0.0), 0.0, 1.0)
        self.row_site = np.full((J, T), NO_ROW, int)
        self.row_site[ji, ti] = code.astype(int)
        self.row_of = np.full((J, T), -1, int)  # the assignment row of each (job, slot)
        self.row_of[ji, ti] = rows

    # ---- migrations -> where each job lies, and how much of each slot it may use -------------
    def place_migrations(self) -> None:
        J, T, dt = self.n_jobs, self.n_slots, self.dt
        t = np.arange(T)
        arrived = t[None, :] >= self.arrival_slot[:, None]
        self.loc = np.where(arrived, self.origin[:, None], NOT_ARRIVED)
        self.avail = arrived.astype(float)
        self.offset = np.zeros((J, T))
        self.cap_reason = np.where(arrived, 0, CAP_ARRIVAL)
        self.slack = np.zeros((J, T))  # extra run_fraction allowance in a checkpoint's arrival slot
        jobs_in = np.flatnonzero(self.arrival_slot < T)
        first = self.arrival_slot[jobs_in]
        self.offset[jobs_in, first] = self.arrival_h[jobs_in] - first * dt
        self.avail[jobs_in, first] = np.clip(first + 1 - self.arrival_h[jobs_in] / dt, 0, 1)
        self.cap_reason[jobs_in, first] = CAP_ARRIVAL
        self.moves: list[Move] = []

        m = self.migrations
        n = len(m)
        self.migration_feasible = np.zeros(n, bool)
        if n == 0:
            return
        ids, job = _lookup(m["job_id"], self.inst.job_index)
        src_text, src = _lookup(m["src"], self.inst.site_index)
        dst_text, dst = _lookup(m["dst"], self.inst.site_index)
        depart = pd.to_numeric(m["depart_slot"], errors="coerce").to_numpy(float)
        transfer = pd.to_numeric(m["transfer_s"], errors="coerce").to_numpy(float)
        arrive = pd.to_numeric(m["arrive_slot"], errors="coerce").to_numpy(float)

        usable = []
        for r in range(n):
            problems = []  # (column, message)
            if not np.isfinite(job[r]):
                problems.append(("job_id", f"unknown job_id {ids[r]!r}"))
            for col, text, idx in (("src", src_text, src), ("dst", dst_text, dst)):
                if not np.isfinite(idx[r]):
                    problems.append((col, f"unknown {col} site {text[r]!r}"))
            with np.errstate(invalid="ignore"):
                for col, value in (("depart_slot", depart[r]), ("arrive_slot", arrive[r])):
                    if not (np.isfinite(value) and value == round(value)):
                        problems.append((col, f"{col} {_show(m[col].iloc[r])} is not an integer"))
            if not (np.isfinite(transfer[r]) and transfer[r] >= 0):
                shown = _show(m["transfer_s"].iloc[r])
                problems.append(("transfer_s", f"transfer_s {shown} is not a duration"))
            if not problems and src[r] == dst[r]:
                problems.append(("dst", f"a move from {src_text[r]!r} to the same site"))
            slot = int(depart[r]) if np.isfinite(depart[r]) else None
            job_ref = int(job[r]) if np.isfinite(job[r]) else (ids[r] or None)
            for col, p in problems:
                self.add("format", job_ref, slot, f"{self.at(M, r, col, 'migration: ')}{p}")
            if not problems:
                usable.append(r)
        # per job, in order of departure (rows with equal departure keep their file order)
        usable.sort(key=lambda r: (int(job[r]), int(depart[r]), r))
        last_job, here, prev_arrival = -1, -1, -math.inf
        for r in usable:
            j, d, s, b = int(job[r]), int(depart[r]), int(src[r]), int(dst[r])
            jb = self.inst.jobs[j]
            loc = self.at(M, r)
            if j != last_job:
                last_job, here, prev_arrival = j, int(self.origin[j]), -math.inf
            if not jb.migratable:
                self.add("non_migratable", j, d, f"{loc}{jb.job_id} is not migratable but moves")
            depart_h = d * dt
            if depart_h < self.arrival_h[j] - TIME_EPS:
                self.add(
                    "arrival",
                    j,
                    d,
                    f"{loc}departs at {depart_h:g} h, before its arrival at "
                    f"{self.arrival_h[j]:g} h",
                )
            if depart_h < prev_arrival - TIME_EPS:
                self.add(
                    "migration_timing",
                    j,
                    d,
                    f"{loc}departs at {depart_h:g} h, before its previous move arrived "
                    f"at {prev_arrival:g} h",
                )
            if s != here:
                self.add(
                    "location",
                    j,
                    d,
                    f"{loc}moves from {self.site_ids[s]} but lies at {self.where(here)}",
                )
            route = self.route(s, b)
            if route is None:
                self.add(
                    "migration_timing",
                    j,
                    d,
                    f"{loc}no path from {self.site_ids[s]} to {self.site_ids[b]}",
                )
                t_mig, transit = math.nan, float(transfer[r])
            else:
                t_mig = migration_time_s(self.params, jb.checkpoint_gb, route)
                if abs(transfer[r] - t_mig) > TRANSFER_ABS_S + TRANSFER_REL * t_mig:
                    self.add(
                        "migration_timing",
                        j,
                        d,
                        f"{loc}transfer_s {transfer[r]:.6g} != T_mig {t_mig:.6g} s",
                    )
                    transit = t_mig
                else:
                    transit = float(transfer[r])
            moment = depart_h + transit / 3600.0
            arrive_slot = slot_of_moment(moment, dt)
            if arrive_slot >= T:
                self.add(
                    "migration_timing",
                    j,
                    d,
                    f"{loc}arrives at {moment:g} h, past the horizon ({self.params.horizon_h:g} h)",
                )
            elif int(arrive[r]) != arrive_slot:
                self.add(
                    "migration_timing",
                    j,
                    d,
                    f"{loc}arrive_slot {int(arrive[r])} but the checkpoint arrives "
                    f"in slot {arrive_slot}",
                )
            here, prev_arrival = b, moment
            if d < 0 or d >= T:
                continue  # nothing of it lies within the horizon
            self.moves.append(Move(r, j, d, s, b, route, t_mig, transit, moment, arrive_slot))
            self.loc[j, d:] = IN_TRANSIT
            self.avail[j, d:] = 0.0
            self.offset[j, d:] = 0.0
            self.cap_reason[j, d:] = CAP_LOCATION
            self.slack[j, d:] = 0.0
            if arrive_slot < T:
                self.loc[j, arrive_slot:] = b
                self.avail[j, arrive_slot:] = 1.0
                self.cap_reason[j, arrive_slot:] = 0
                self.avail[j, arrive_slot] = usable_fraction(moment, arrive_slot, dt)
                self.offset[j, arrive_slot] = moment - arrive_slot * dt
                self.cap_reason[j, arrive_slot] = CAP_LOCATION
                if route is not None:  # run fractions derived from T_mig or transfer_s both pass
                    tol_s = TRANSFER_ABS_S + TRANSFER_REL * t_mig
                    self.slack[j, arrive_slot] = tol_s / 3600 / dt

    def where(self, code: int) -> str:
        """A location code as words: the site's id, "in transit"..."""
        if code >= 0:
            return self.site_ids[code]
        return {
            IN_TRANSIT: "in transit",
            NOT_ARRIVED: "not yet arrived",
            UNKNOWN_SITE: "an unknown site",
        }.get(code, "?")
