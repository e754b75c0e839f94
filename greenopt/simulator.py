"""The simulator (SPEC §4–§5): the one place a schedule is checked and its metrics computed.

:func:`simulate` plays a :class:`~greenopt.schedule.Schedule` against an instance's **actual**
traces (``instance.renewable_kw``, never a forecast). It reports every violation of the SPEC §4
rules (``format``, ``arrival``, ``location``, ``migration_timing``, ``non_migratable``,
``capacity``, ``link_capacity``, ``work``) and, for a valid schedule only, the SPEC §5 metrics:

* load P[s,t] = idle_kw_s + pue_s · Σ_j power_kw_j · run[j,s,t]; r = min(P, R); g = P − r   (kW)
* nre_kwh = Σ g·Δ + Σ E_mig; renewable_kwh = Σ r·Δ; curtailed_kwh = Σ (R − r)·Δ
* carbon_kg = Σ g·Δ·carbon / 1000 over sites with a carbon column (migration energy excluded)
* C_j: the moment cumulative computing reaches work_h; inside slot t computing spans
  [tΔ + o, tΔ + o + f·Δ], o being the part of the slot before the job's (or its checkpoint's)
  arrival; censored at horizon_h when unfinished. JCT = C_j − arrival_h, slowdown = JCT / work_h.

Choices where SPEC leaves room (documented once, here):

* A migration departs at the moment depart_slot·Δ, which must not precede arrival_h: a job arriving
  inside slot t can leave at the start of slot t + 1 at the earliest (``arrival`` otherwise).
* A migration's transit lasts its recorded ``transfer_s`` when that matches T_mig within
  0.01 s + 1e-6·T_mig, else T_mig (the physical truth); in its arrival slot run_fraction may
  exceed the usable part by that tolerance (so fractions derived from either value pass).
  E_mig and ``migration_downtime_h`` use T_mig.
* ``capacity`` and ``link_capacity`` violations carry ``job_id=None``; their message names the
  site or directed link and the jobs involved.
* Missing rows are reported once per contiguous run of slots (slot = the first of the run);
  computing after completion once per contiguous run as well.
* A row's ``site`` must be where the job lies (empty in transit) from its arrival slot on, even
  with run_fraction 0 (``location``); rows before the arrival slot only need run_fraction 0.
* Computing recorded in an invalid row (before arrival, in transit) still counts towards work_h,
  so ``work`` is judged on what the schedule claims.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.feasibility import TOLERANCE, is_feasible, migration_energy_kwh, migration_time_s
from greenopt.instance import Instance
from greenopt.network import Network, Route, build_graph, find_route
from greenopt.schedule import (
    ASSIGNMENT_COLUMNS,
    MIGRATION_COLUMNS,
    TIME_EPS,
    Schedule,
    slot_of_moment,
    transfer_volume_by_slot,
    usable_fraction,
)

RULES = (
    "format",
    "arrival",
    "location",
    "migration_timing",
    "non_migratable",
    "capacity",
    "link_capacity",
    "work",
)

#: SPEC §5 metric names, in the order they are reported (``carbon_kg`` only with carbon data).
METRIC_NAMES = (
    "nre_kwh",
    "renewable_kwh",
    "renewable_share",
    "curtailed_kwh",
    "carbon_kg",
    "jct_mean_h",
    "jct_p95_h",
    "slowdown_mean",
    "slowdown_p95",
    "slowdown_std",
    "unfinished_jobs",
    "unfinished_work_h",
    "deadline_misses",
    "migrations",
    "migrated_gb",
    "migration_downtime_h",
    "infeasible_migrations",
)

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
_CAP_ARRIVAL, _CAP_LOCATION = 1, 2


class ScheduleReadError(ValueError):
    """Unreadable schedule: one ``FILE: message`` per problem (CLI exit code 2)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Violation:
    """One broken SPEC §4 rule. ``job_id`` is None for capacity and link_capacity."""

    rule: str
    job_id: str | None
    slot: int | None
    message: str


@dataclass
class SimulationResult:
    """What :func:`simulate` found. Arrays are computed for every schedule (valid or not) from the
    rows that could be read; ``metrics`` only for a valid one.

    Site arrays are (sites × slots, kW): ``load_kw`` P, ``renewable_kw`` R (actual),
    ``renewable_used_kw`` r, ``grid_kw`` g. Job arrays: ``completion_h`` C_j (horizon_h if
    unfinished), ``computed_h``, ``finished``; (jobs × slots) ``run_fraction`` and ``location``
    (site index, −1 in transit, −2 before arrival). ``migration_feasible`` has one entry per row
    of migrations.csv (False when the row could not be judged).
    """

    valid: bool
    violations: list[Violation]
    metrics: dict[str, Any] | None
    load_kw: np.ndarray
    renewable_kw: np.ndarray
    renewable_used_kw: np.ndarray
    grid_kw: np.ndarray
    completion_h: np.ndarray
    computed_h: np.ndarray
    finished: np.ndarray
    run_fraction: np.ndarray
    location: np.ndarray
    migration_feasible: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def to_json(self) -> dict[str, Any]:
        """``{"valid", "violations": [[rule, job, slot, message], ...], "metrics"}``."""
        return {
            "valid": self.valid,
            "violations": [[v.rule, v.job_id, v.slot, v.message] for v in self.violations],
            "metrics": self.metrics,
        }


# ---- reading ------------------------------------------------------------------------------------


#: Columns of each schedule file read as numbers (the others are text).
NUMERIC_COLUMNS = {
    "assignment.csv": ("slot", "run_fraction"),
    "migrations.csv": ("depart_slot", "transfer_s", "arrive_slot"),
}
#: Text columns that may be empty (``site``: in transit).
OPTIONAL_COLUMNS = {"site"}


def _number(text: str) -> float:
    """A finite number, or ValueError saying why not."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if math.isnan(value):
        raise ValueError("NaN is not allowed")
    if math.isinf(value):
        raise ValueError(f"expected a finite number, got {text!r}")
    return value


def _csv_records(text: str) -> list[tuple[int, list[str]]]:
    """(line, stripped cells) of each non-blank CSV record. Without quotes or bare carriage
    returns every record is one line, split directly (several times faster than tracking
    ``csv.reader.line_num``)."""
    if '"' not in text and "\r" not in text.replace("\r\n", ""):
        out = []
        for line, raw in enumerate(text.split("\n"), start=1):
            cells = raw.removesuffix("\r").split(",")
            if len(cells) > 1 or cells[0].strip():
                out.append((line, [cell.strip() for cell in cells]))
        return out
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                records.append((line, [cell.strip() for cell in record]))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise csv.Error(f"CSV syntax error on line {reader.line_num}: {exc}") from None
    return records


def _read_schedule_file(
    path: Path, columns: list[str], problems: list[str]
) -> tuple[pd.DataFrame, list[int]] | None:
    """One schedule file as a frame of ``columns`` (numbers converted) and each row's line; every
    unreadable cell is reported as ``PATH:LINE:COLUMN: message``."""
    if not path.is_file():
        problems.append(f"{path}: missing file")
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    try:
        records = _csv_records(text)
    except csv.Error as exc:
        problems.append(f"{path}: {exc}")
        return None
    if not records:
        problems.append(f"{path}: empty file (no header)")
        return None
    header = records[0][1]
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(f"{path}: missing column(s) {', '.join(missing)}")
        return None
    numeric = set(NUMERIC_COLUMNS[path.name])
    found = len(problems)
    lines, rows = [], []
    for line, cells in records[1:]:
        if len(cells) != len(header):
            more = len(cells) - len(header)
            problems.append(
                f"{path}:{line}:{len(header) + 1}: {more} field(s) more than the header"
                if more > 0
                else f"{path}:{line}:{header[len(cells)]}: missing field (row has {len(cells)} "
                f"fields, header has {len(header)})"
            )
            continue
        lines.append(line)
        rows.append(cells)
    cells_by_column = list(zip(*rows, strict=True)) or [() for _ in header]
    data: dict[str, Any] = {}
    for col in columns:
        cells = cells_by_column[header.index(col)]
        if col in numeric:
            try:  # fast path: every cell a finite number
                values = np.array(cells, dtype=float)
                if np.isfinite(values).all():
                    data[col] = values
                    continue
            except ValueError:
                pass
            for line, cell in zip(lines, cells, strict=True):
                try:
                    _number(cell) if cell else None
                except ValueError as exc:
                    problems.append(f"{path}:{line}:{col}: {exc}")
                else:
                    if not cell:
                        problems.append(f"{path}:{line}:{col}: empty cell")
        else:
            if col not in OPTIONAL_COLUMNS:
                problems += [
                    f"{path}:{line}:{col}: empty cell"
                    for line, cell in zip(lines, cells, strict=True)
                    if not cell
                ]
            data[col] = pd.Series([cell or None for cell in cells], dtype=object)
    if len(problems) > found:
        return None
    return pd.DataFrame(data, columns=columns), lines


def read_schedule(folder: str | Path) -> Schedule:
    """Read ``assignment.csv`` and ``migrations.csv`` from ``folder``.

    Ids and sites are read as text (an empty site cell is ``None``: in transit), the other columns
    as finite numbers; each row's line is kept for located messages (``Schedule.lines``). A
    missing or malformed file, a missing column, a short or long row, an empty required cell or a
    cell that is not a number raises :class:`ScheduleReadError` listing every problem.
    """
    folder = Path(folder)
    problems: list[str] = []
    read = {
        name: _read_schedule_file(folder / name, columns, problems)
        for name, columns in (
            ("assignment.csv", ASSIGNMENT_COLUMNS),
            ("migrations.csv", MIGRATION_COLUMNS),
        )
    }
    if problems:
        raise ScheduleReadError(problems)
    (assignment, a_lines), (migrations, m_lines) = read["assignment.csv"], read["migrations.csv"]
    return Schedule(
        assignment, migrations, lines={"assignment.csv": a_lines, "migrations.csv": m_lines}
    )


# ---- simulation ---------------------------------------------------------------------------------


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


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Contiguous runs [first, last] of True in a 1-D mask."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.append(idx[0], idx[breaks + 1])
    ends = np.append(idx[breaks], idx[-1])
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _span(first: int, last: int) -> str:
    return f"slot {first}" if first == last else f"slots {first}–{last}"


@dataclass
class _Move:
    """A migration row that could be placed on the job's timeline."""

    row: int
    job: int
    depart_slot: int
    src: int
    dst: int
    route: Route | None
    t_mig_s: float  # SPEC §3 T_mig (NaN without a route)
    transit_s: float  # duration used for the timeline (see module docstring)
    arrival_h: float
    arrive_slot: int  # the correct one, from the arrival moment


class _Simulation:
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
        self.cap_reason = np.where(arrived, 0, _CAP_ARRIVAL)
        self.slack = np.zeros((J, T))  # extra run_fraction allowance in a checkpoint's arrival slot
        jobs_in = np.flatnonzero(self.arrival_slot < T)
        first = self.arrival_slot[jobs_in]
        self.offset[jobs_in, first] = self.arrival_h[jobs_in] - first * dt
        self.avail[jobs_in, first] = np.clip(first + 1 - self.arrival_h[jobs_in] / dt, 0, 1)
        self.cap_reason[jobs_in, first] = _CAP_ARRIVAL
        self.moves: list[_Move] = []

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
                    f"{loc}moves from {self.site_ids[s]} but lies at {self._where(here)}",
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
            self.moves.append(_Move(r, j, d, s, b, route, t_mig, transit, moment, arrive_slot))
            self.loc[j, d:] = IN_TRANSIT
            self.avail[j, d:] = 0.0
            self.offset[j, d:] = 0.0
            self.cap_reason[j, d:] = _CAP_LOCATION
            self.slack[j, d:] = 0.0
            if arrive_slot < T:
                self.loc[j, arrive_slot:] = b
                self.avail[j, arrive_slot:] = 1.0
                self.cap_reason[j, arrive_slot:] = 0
                self.avail[j, arrive_slot] = usable_fraction(moment, arrive_slot, dt)
                self.offset[j, arrive_slot] = moment - arrive_slot * dt
                self.cap_reason[j, arrive_slot] = _CAP_LOCATION
                if route is not None:  # run fractions derived from T_mig or transfer_s both pass
                    tol_s = TRANSFER_ABS_S + TRANSFER_REL * t_mig
                    self.slack[j, arrive_slot] = tol_s / 3600 / dt

    def _where(self, code: int) -> str:
        if code >= 0:
            return self.site_ids[code]
        return {
            IN_TRANSIT: "in transit",
            NOT_ARRIVED: "not yet arrived",
            UNKNOWN_SITE: "an unknown site",
        }.get(code, "?")

    # ---- per-row rules ------------------------------------------------------------------------
    def check_rows(self) -> None:
        T = self.n_slots
        has_row = self.row_site != NO_ROW
        excess = has_row & (self.run > self.avail + self.slack + RUN_TOL)
        arrived = self.loc != NOT_ARRIVED
        mismatch = has_row & arrived & (self.row_site != self.loc) & (self.row_site != UNKNOWN_SITE)
        for j, t in zip(*np.nonzero(excess & (self.cap_reason == _CAP_ARRIVAL)), strict=True):
            run, avail = self.run[j, t], self.avail[j, t]
            if t < self.arrival_slot[j]:
                why = f"computes {run:.6g} of the slot before its arrival slot"
            else:
                why = f"run_fraction {run:.6g} but only {avail:.6g} of the slot follows arrival_h"
            self.add("arrival", int(j), int(t), self.at_cell(j, t) + why)
        loc_excess = excess & (self.cap_reason == _CAP_LOCATION)
        for j, t in zip(*np.nonzero(loc_excess | mismatch), strict=True):
            run, avail, lies = self.run[j, t], self.avail[j, t], self.loc[j, t]
            parts = []
            if mismatch[j, t]:
                where = self._where(lies) if lies < 0 else f"at {self._where(lies)}"
                parts.append(f"row says {self._where(self.row_site[j, t])}, the job lies {where}")
            if loc_excess[j, t] and lies == IN_TRANSIT:
                parts.append(f"computes {run:.6g} of the slot while in transit")
            elif loc_excess[j, t]:
                parts.append(f"run_fraction {run:.6g} but only {avail:.6g} follows the arrival")
            self.add("location", int(j), int(t), self.at_cell(j, t) + "; ".join(parts))

        # work and completion
        hours = self.run * self.dt
        self.cum = np.cumsum(hours, axis=1)
        done = self.cum >= self.work_h[:, None] - WORK_TOL_H
        self.finished = done[:, -1]
        self.done_slot = np.where(self.finished, np.argmax(done, axis=1), T - 1)
        t = np.arange(T)
        for j in np.flatnonzero(self.finished):
            k = self.done_slot[j]
            if self.cum[j, k] > self.work_h[j] + WORK_TOL_H:
                self.add(
                    "work",
                    int(j),
                    int(k),
                    f"computes {self.cum[j, k]:.6g} h by this slot, "
                    f"more than work_h {self.work_h[j]:g}",
                )
            after = (t > k) & (hours[j] > WORK_TOL_H)
            for first, last in _runs(after):
                extra = hours[j, first : last + 1].sum()
                self.add(
                    "work",
                    int(j),
                    first,
                    f"computes {extra:.6g} h after completing in slot {k} ({_span(first, last)})",
                )

        # required rows: arrival slot through completion slot (or the last slot)
        required = (t[None, :] >= self.arrival_slot[:, None]) & (
            t[None, :] <= self.done_slot[:, None]
        )
        for j in np.flatnonzero((required & ~has_row).any(axis=1)):
            for first, last in _runs(required[j] & ~has_row[j]):
                self.add("format", int(j), first, f"missing row(s) for {_span(first, last)}")

    # ---- shared resources ---------------------------------------------------------------------
    def check_capacity(self) -> None:
        S, T = self.n_sites, self.n_slots
        at_site = self.row_site >= 0
        j_idx, t_idx = np.nonzero(at_site)
        flat = self.row_site[j_idx, t_idx] * T + t_idx
        run = self.run[j_idx, t_idx]
        self.it_kw = np.bincount(flat, weights=self.power[j_idx] * run, minlength=S * T).reshape(
            S, T
        )
        gpu = np.bincount(flat, weights=self.gpus_job[j_idx] * run, minlength=S * T).reshape(S, T)
        cap = np.array([s.gpus for s in self.inst.sites], float)[:, None]
        for s, t in zip(*np.nonzero(gpu > cap + GPU_TOL), strict=True):
            jobs = [
                self.job_ids[j]
                for j in np.flatnonzero((self.row_site[:, t] == s) & (self.run[:, t] > 0))
            ]
            self.add(
                "capacity",
                None,
                int(t),
                f"{self.site_ids[s]}: {gpu[s, t]:.6g} GPUs in use > {cap[s, 0]:g} "
                f"({', '.join(jobs)})",
            )

    def check_links(self) -> None:
        """In-flight checkpoint volume per directed link and slot (each move's volume spread evenly
        over [departure, arrival moment)) against bandwidth · link_efficiency · Δ · 3600 / 8 GB."""
        T, dt = self.n_slots, self.dt
        link_ids: dict[tuple[str, str], int] = {}
        cols: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []  # link·T+slot, GB, move
        for m, mv in enumerate(self.moves):
            if mv.route is None or mv.transit_s <= 0:
                continue
            spread = transfer_volume_by_slot(
                self.inst.jobs[mv.job].checkpoint_gb, mv.depart_slot, mv.transit_s, dt, T
            )
            slots = np.array([t for t, _ in spread if t < T], int)
            gb = np.array([v for t, v in spread if t < T], float)
            for link in mv.route.directed_links:
                lid = link_ids.setdefault(link, len(link_ids))
                cols.append((lid * T + slots, gb, m))
        if not cols:
            return
        cell = np.concatenate([c[0] for c in cols])
        gb = np.concatenate([c[1] for c in cols])
        move = np.concatenate([np.full(len(c[0]), c[2]) for c in cols])
        load = np.bincount(cell, weights=gb, minlength=len(link_ids) * T)
        p = self.params
        bandwidth = np.array([self.graph.edges[a, b]["bandwidth_gbps"] for a, b in link_ids])
        cap = np.repeat(bandwidth * p.link_efficiency * dt * 3600 / 8, T)
        links = list(link_ids)
        for c in np.flatnonzero(load > cap * (1 + LINK_RTOL)):
            (a, b), t = links[c // T], int(c % T)
            jobs = ", ".join(self.job_ids[self.moves[m].job] for m in move[(cell == c) & (gb > 0)])
            self.add(
                "link_capacity",
                None,
                t,
                f"link {a}->{b}: {load[c]:.6g} GB in flight > {cap[c]:.6g} GB ({jobs})",
            )

    # ---- metrics ------------------------------------------------------------------------------
    def energy_arrays(self) -> None:
        idle = np.array([s.idle_kw for s in self.inst.sites], float)[:, None]
        pue = np.array([s.pue for s in self.inst.sites], float)[:, None]
        self.R = np.asarray(self.inst.renewable_kw, float)
        self.P = idle + pue * self.it_kw
        self.r = np.minimum(self.P, self.R)
        self.g = self.P - self.r

    def completion(self) -> np.ndarray:
        """C_j (h): in the completion slot k, computing starts at kΔ + offset and the job needs
        work_h − (hours before k) of it; horizon_h for an unfinished job."""
        C = np.full(self.n_jobs, float(self.params.horizon_h))
        j = np.flatnonzero(self.finished)
        k = self.done_slot[j]
        before = np.where(k > 0, self.cum[j, np.maximum(k - 1, 0)], 0.0)
        need = np.clip(self.work_h[j] - before, 0.0, None)
        C[j] = k * self.dt + self.offset[j, k] + np.minimum(need, self.run[j, k] * self.dt)
        return C

    def judge_migrations(self) -> None:
        """Feasibility (SPEC §3) of each placed move on the actual traces at its arrival slot."""
        dt, T = self.dt, self.n_slots
        for mv in self.moves:
            if mv.arrive_slot >= T:
                continue
            site = self.inst.sites[mv.dst]
            job = self.inst.jobs[mv.job]
            ok = (
                self.R[mv.dst, mv.arrive_slot :] - site.idle_kw
                >= site.pue * job.power_kw - TOLERANCE
            )
            window = (len(ok) if ok.all() else int(np.argmin(ok))) * dt
            tau = mv.arrival_h - mv.arrive_slot * dt
            self.migration_feasible[mv.row] = is_feasible(
                self.params, job, mv.route, site, window, tau
            )

    def metrics(self, C: np.ndarray) -> dict[str, Any]:
        dt, p = self.dt, self.params
        e_mig = sum(
            migration_energy_kwh(p, self.inst.jobs[mv.job].checkpoint_gb, mv.t_mig_s)
            for mv in self.moves
        )
        renewable = float(self.r.sum() * dt)
        nre = float(self.g.sum() * dt + e_mig)
        out: dict[str, Any] = {
            "nre_kwh": nre,
            "renewable_kwh": renewable,
            "renewable_share": renewable / (renewable + nre) if renewable + nre > 0 else 0.0,
            "curtailed_kwh": float((self.R - self.r).sum() * dt),
        }
        carbon = self.inst.carbon
        if carbon is not None:
            has = ~np.isnan(carbon)
            out["carbon_kg"] = float((self.g * dt * np.where(has, carbon, 0.0)).sum() / 1000)
        jct = C - self.arrival_h
        slowdown = jct / self.work_h
        n = self.n_jobs
        out |= {
            "jct_mean_h": float(jct.mean()) if n else 0.0,
            "jct_p95_h": float(np.percentile(jct, 95)) if n else 0.0,
            "slowdown_mean": float(slowdown.mean()) if n else 0.0,
            "slowdown_p95": float(np.percentile(slowdown, 95)) if n else 0.0,
            "slowdown_std": float(slowdown.std()) if n else 0.0,
        }
        unfinished = ~self.finished
        deadline = np.array(
            [math.inf if j.deadline_h is None else j.deadline_h for j in self.inst.jobs]
        )
        misses = (self.finished & (deadline + TIME_EPS < C)) | (
            unfinished & (deadline <= p.horizon_h + TIME_EPS)
        )
        out |= {
            "unfinished_jobs": int(unfinished.sum()),
            "unfinished_work_h": float((self.work_h - self.cum[:, -1])[unfinished].sum()),
            "deadline_misses": int(misses.sum()),
            "migrations": len(self.moves),
            "migrated_gb": float(sum(self.inst.jobs[mv.job].checkpoint_gb for mv in self.moves)),
            "migration_downtime_h": float(sum(mv.t_mig_s for mv in self.moves) / 3600),
            "infeasible_migrations": int((~self.migration_feasible).sum()),
        }
        return {k: out[k] for k in METRIC_NAMES if k in out}

    def run_all(self) -> SimulationResult:
        self.read_rows()
        self.place_migrations()
        self.check_rows()
        self.check_capacity()
        self.check_links()
        self.energy_arrays()
        self.judge_migrations()
        C = self.completion()
        order = {rule: i for i, rule in enumerate(RULES)}
        jpos = self.inst.job_index
        self.violations.sort(
            key=lambda v: (
                v.job_id is None,
                jpos.get(v.job_id, len(jpos)) if v.job_id is not None else 0,
                v.slot if v.slot is not None else -1,
                order[v.rule],
            )
        )
        valid = not self.violations
        return SimulationResult(
            valid=valid,
            violations=self.violations,
            metrics=self.metrics(C) if valid else None,
            load_kw=self.P,
            renewable_kw=self.R,
            renewable_used_kw=self.r,
            grid_kw=self.g,
            completion_h=C,
            computed_h=self.cum[:, -1].copy(),
            finished=self.finished,
            run_fraction=self.run,
            location=self.loc,
            migration_feasible=self.migration_feasible,
        )


def simulate(
    instance: Instance, schedule: Schedule, network: Network | None = None
) -> SimulationResult:
    """Check ``schedule`` against SPEC §4 and, if valid, compute the SPEC §5 metrics on the
    instance's actual traces. Pass ``network`` to reuse its graph across calls."""
    return _Simulation(instance, schedule, network).run_all()


# ---- command line -------------------------------------------------------------------------------


def evaluate_schedule(instance: Instance, schedule_dir: str | Path, as_json: bool = False) -> int:
    """Read the schedule in ``schedule_dir``, simulate it and print the violations and metrics
    (rich tables, or JSON). Returns the exit code: 0 valid, 1 invalid, 2 unreadable."""
    try:
        schedule = read_schedule(schedule_dir)
    except ScheduleReadError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    result = simulate(instance, schedule)
    if as_json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        print_result(result)
    return 0 if result.valid else 1


def print_result(result: SimulationResult) -> None:
    """Violations (job, slot, rule, message) and the metrics, as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if result.violations:
        table = Table(title=f"{len(result.violations)} violation(s)")
        for col in ("job", "slot", "rule", "message"):
            table.add_column(col)
        for v in result.violations:
            table.add_row(
                v.job_id or "-", "-" if v.slot is None else str(v.slot), v.rule, v.message
            )
        console.print(table)
        console.print("[red]schedule INVALID[/]")
        return
    table = Table(title="metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in (result.metrics or {}).items():
        table.add_row(name, f"{value:.6g}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print("[green]schedule valid[/]")
