"""The scheduling MILP of :mod:`greenopt.optimization.model` assembled as sparse arrays.

The Pyomo model is the definition; this module builds the same matrix, bounds, integrality and
objective straight from the :class:`~greenopt.optimization.sets.WindowSets` with numpy, without a
Python object per term, so HiGHS gets the model in one call (:mod:`greenopt.optimization.highs`).
``tests/test_arrays.py`` holds it equal to Pyomo's own standard form of the model.

One function per constraint family, in the order and with the formulas of ``model.py`` (notation
there). Columns come in blocks: mig[A], loc[JST], run[JST], cum[JT], g[ST], done[JT] (exact delay
term only), miss[DJ]; every block is in the order of the Pyomo index set. Periods are numbered by
their position p in the window's grid (p0_j: the entry period of job j); rows are numbered within
a family and stacked in the order of ``model.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from greenopt.optimization.model import deadline_slot
from greenopt.optimization.objective import terminal_prices
from greenopt.optimization.sets import WindowSets
from greenopt.optimization.settings import ModelSettings

INF = np.inf


# ---- parameters and columns -------------------------------------------------------------------


@dataclass
class WindowParameters:
    """The model's mutable parameters: ``R[s, p]`` renewable power (kW, mean over period p),
    ``rem[k]`` remaining work (h) of the k-th window job, ``at_entry[k, s]`` = [s = s0]."""

    R: np.ndarray
    rem: np.ndarray
    at_entry: np.ndarray

    @classmethod
    def of(cls, sets: WindowSets) -> WindowParameters:
        """The values ``model.add_parameters`` gives them."""
        R, grid = sets.instance.renewable_kw, sets.grid
        means = np.array(
            [[R[s, t : t + grid.length(t)].mean() for t in grid.starts] for s in range(len(R))],
            float,
        ).reshape(len(R), len(grid.starts))
        rem = np.array([sets.entry[j].remaining_h for j in sets.jobs], float)
        at_entry = np.zeros((len(sets.jobs), len(sets.instance.sites)))
        at_entry[np.arange(len(sets.jobs)), [sets.entry[j].site for j in sets.jobs]] = 1.0
        return cls(means, rem, at_entry)


class ColumnIndex:
    """Column numbers of every variable of the window model (see module docstring)."""

    def __init__(self, sets: WindowSets, settings: ModelSettings):
        grid = sets.grid
        self.starts = np.array(grid.starts, int)
        self.lengths = np.diff([*grid.starts, sets.t_end]).astype(int)
        self.n_periods = P = len(self.starts)
        self.n_sites = n_sites = len(sets.instance.sites)
        self.jobs = np.array(sets.jobs, int)
        self.row_of_job = np.full(len(sets.instance.jobs), -1)
        self.row_of_job[self.jobs] = np.arange(len(self.jobs))
        J = len(self.jobs)
        self.p0 = np.array([self.period(sets.entry[j].slot) for j in sets.jobs], int).reshape(J)
        self.width = P - self.p0  # periods per job
        n_cand = np.array([len(sets.sites[j]) for j in sets.jobs], int).reshape(J)
        self.site_pos = np.full((J, n_sites), -1)
        for k, j in enumerate(sets.jobs):
            self.site_pos[k, sets.sites[j]] = np.arange(len(sets.sites[j]))
        sizes = n_cand * self.width
        self.jst_base = np.concatenate([[0], np.cumsum(sizes)])[:-1].astype(int)
        self.jt_base = np.concatenate([[0], np.cumsum(self.width)])[:-1].astype(int)
        self.n_jst, self.n_jt = int(sizes.sum()), int(self.width.sum())
        # JST in Pyomo's order: job, candidate site, period
        self.jst_job = np.repeat(np.arange(J), sizes)
        self.jst_site = np.concatenate(
            [np.repeat(sets.sites[j], self.width[k]) for k, j in enumerate(sets.jobs)] or [[]]
        ).astype(int)
        self.jst_period = np.concatenate(
            [np.tile(np.arange(self.p0[k], P), n_cand[k]) for k in range(J)] or [[]]
        ).astype(int)
        self.jt_job = np.repeat(np.arange(J), self.width)
        self.jt_period = np.concatenate([np.arange(self.p0[k], P) for k in range(J)] or [[]])
        self.jt_period = self.jt_period.astype(int)
        self.deadline_jobs = [j for j in sets.jobs if deadline_slot(sets, j) is not None]
        self.n_arcs = len(sets.arcs)
        blocks = [
            ("mig", self.n_arcs),
            ("loc", self.n_jst),
            ("run", self.n_jst),
            ("cum", self.n_jt),
            ("g", n_sites * P),
            ("done", self.n_jt if settings.delay_term == "exact" else 0),
            ("miss", len(self.deadline_jobs)),
        ]
        self.offset: dict[str, int] = {}
        n = 0
        for name, size in blocks:
            self.offset[name] = n
            n += size
        self.block_size = dict(blocks)
        self.n_columns = n

    def period(self, slot: int | np.ndarray) -> np.ndarray:
        """Position of the period starting at ``slot`` (a period start)."""
        return np.searchsorted(self.starts, slot)

    def columns(self, name: str) -> np.ndarray:
        """Every column of block ``name``."""
        return self.offset[name] + np.arange(self.block_size[name])

    def jst(self, k: np.ndarray, s: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Position in JST of (k-th job, site s, period p); −1 where not in JST."""
        k, s, p = np.asarray(k, int), np.asarray(s, int), np.asarray(p, int)
        pos = self.site_pos[k, s]
        ok = (pos >= 0) & (p >= self.p0[k]) & (p < self.n_periods)
        return np.where(ok, self.jst_base[k] + pos * self.width[k] + p - self.p0[k], -1)

    def jt(self, k: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Position in JT of (k-th job, period p ≥ p0)."""
        return self.jt_base[k] + np.asarray(p, int) - self.p0[k]

    def keys(self, sets: WindowSets) -> list[tuple[str, tuple]]:
        """(variable name, Pyomo index) of every column, in column order."""
        t = self.starts
        jst = [
            (int(sets.jobs[k]), int(s), int(t[p]))
            for k, s, p in zip(self.jst_job, self.jst_site, self.jst_period, strict=True)
        ]
        jt = [
            (int(sets.jobs[k]), int(t[p])) for k, p in zip(self.jt_job, self.jt_period, strict=True)
        ]
        st = [(s, int(tt)) for s in range(self.n_sites) for tt in t]
        out = [("mig", (x,)) for x in range(self.n_arcs)]
        out += [("loc", key) for key in jst] + [("run", key) for key in jst]
        out += [("cum", key) for key in jt] + [("g", key) for key in st]
        if self.block_size["done"]:
            out += [("done", key) for key in jt]
        out += [("miss", (j,)) for j in self.deadline_jobs]
        return out


@dataclass
class Rows:
    """One constraint family: its entries (row within the family, column, coefficient) and each
    row's lower and upper bound."""

    name: str
    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def of(cls, name: str, parts: list[tuple], lower: np.ndarray, upper: np.ndarray) -> Rows:
        """From (rows, columns, coefficients) triples, each broadcast to a common length."""
        rows, cols, vals = [], [], []
        for r, c, v in parts:
            r, c = np.asarray(r, int), np.asarray(c, int)
            n = max(r.size, c.size)
            rows.append(np.broadcast_to(r, n))
            cols.append(np.broadcast_to(c, n))
            vals.append(np.broadcast_to(np.asarray(v, float), n))
        return cls(
            name,
            np.concatenate(rows) if rows else np.zeros(0, int),
            np.concatenate(cols) if cols else np.zeros(0, int),
            np.concatenate(vals) if vals else np.zeros(0),
            np.asarray(lower, float),
            np.asarray(upper, float),
        )


def arc_arrays(sets: WindowSets, ix: ColumnIndex) -> dict[str, np.ndarray]:
    """Per arc: window-job row ``k``, ``src``, ``dst``, ``depart``/``arrive`` period positions,
    ``usable``, ``arrive_h``, ``energy``."""
    fields = np.array(
        [
            (a.job, a.src, a.dst, a.depart, a.arrive, a.usable, a.arrive_h, a.energy_kwh)
            for a in sets.arcs
        ],
        float,
    ).reshape(len(sets.arcs), 8)
    job, src, dst, depart, arrive = fields[:, :5].T.astype(int)
    return {
        "k": ix.row_of_job[job],
        "src": src,
        "dst": dst,
        "depart": ix.period(depart),
        "arrive": ix.period(arrive),
        "usable": fields[:, 5],
        "arrive_h": fields[:, 6],
        "energy": fields[:, 7],
    }


def _in_jst(rows: np.ndarray, cols: np.ndarray, vals=None):
    keep = rows >= 0
    if vals is None:
        return rows[keep], cols[keep]
    return rows[keep], cols[keep], np.broadcast_to(vals, rows.shape)[keep]


# ---- constraints ---------------------------------------------------------------------------


def flow_conservation(sets: WindowSets, ix: ColumnIndex, arcs: dict, par: WindowParameters) -> Rows:
    """loc[j,s,t] = loc[j,s,t⁻] − Σ_{x=(j,s,·,t)} mig[x] + Σ_{x=(j,·,s,·): e_x=t} mig[x], with
    loc[j,s,e0⁻] = at_entry[j,s]: the job lies at one site or is in flight."""
    n = ix.n_jst
    i = np.arange(n)
    loc, mig = ix.offset["loc"], ix.offset["mig"]
    later = ix.jst_period > ix.p0[ix.jst_job]
    x = np.arange(ix.n_arcs)
    out_rows, out_cols = _in_jst(ix.jst(arcs["k"], arcs["src"], arcs["depart"]), mig + x)
    in_rows, in_cols = _in_jst(ix.jst(arcs["k"], arcs["dst"], arcs["arrive"]), mig + x)
    rhs = np.where(later, 0.0, par.at_entry[ix.jst_job, ix.jst_site])
    return Rows.of(
        "flow",
        [
            (i, loc + i, 1.0),
            (i[later], loc + i[later] - 1, -1.0),
            (out_rows, out_cols, 1.0),
            (in_rows, in_cols, -1.0),
        ],
        rhs,
        rhs,
    )


def departure_after_arrival(sets: WindowSets, ix: ColumnIndex, arcs: dict) -> Rows:
    """A checkpoint arriving at a inside slot d (u_x < 1) keeps the job at a through slot d:
    loc[j,a,d] ≥ Σ_{x into (j,a,d), u_x<1} mig[x], wherever arcs also leave (j,a,d)."""

    def code(k: np.ndarray, site: np.ndarray, p: np.ndarray) -> np.ndarray:
        return (k * ix.n_sites + site) * ix.n_periods + p

    into = code(arcs["k"], arcs["dst"], arcs["arrive"])
    mid = np.flatnonzero(
        (arcs["usable"] < 1.0) & np.isin(into, code(arcs["k"], arcs["src"], arcs["depart"]))
    )
    keys, row = np.unique(into[mid], return_inverse=True)
    n = keys.size
    k, rest = np.divmod(keys, ix.n_sites * ix.n_periods)
    site, p = np.divmod(rest, ix.n_periods)
    loc = ix.offset["loc"] + ix.jst(k, site, p)
    return Rows.of(
        "stay_after_arrival",
        [(np.arange(n), loc, 1.0), (row, ix.offset["mig"] + mid, -1.0)],
        np.zeros(n),
        np.full(n, INF),
    )


def run_limits(sets: WindowSets, ix: ColumnIndex, arcs: dict) -> Rows:
    """run[j,s,t] ≤ loc[j,s,t] − Σ_{x into (j,s,t)} (1 − u_x)·mig[x]: compute only where the job
    lies, and in a checkpoint's arrival slot only after it arrives."""
    n = ix.n_jst
    i = np.arange(n)
    late = 1.0 - arcs["usable"]
    rows = ix.jst(arcs["k"], arcs["dst"], arcs["arrive"])
    rows, cols, vals = _in_jst(rows, ix.offset["mig"] + np.arange(ix.n_arcs), late)
    return Rows.of(
        "run_limit",
        [(i, ix.offset["run"] + i, 1.0), (i, ix.offset["loc"] + i, -1.0), (rows, cols, vals)],
        np.full(n, -INF),
        np.zeros(n),
    )


def gpu_capacity(sets: WindowSets, ix: ColumnIndex) -> Rows:
    """Σ_j gpus_j · run[j,s,t] ≤ gpus_s, where the jobs that could be there might not fit."""
    inst = sets.instance
    job_gpus = np.array([inst.jobs[j].gpus for j in sets.jobs], float)[ix.jst_job]
    site_gpus = np.array([s.gpus for s in inst.sites], float)
    key = ix.jst_site * ix.n_periods + ix.jst_period
    demand = np.bincount(key, weights=job_gpus, minlength=ix.n_sites * ix.n_periods)
    binding = np.flatnonzero(demand > np.repeat(site_gpus, ix.n_periods))
    row_of_key = np.full(demand.size, -1)
    row_of_key[binding] = np.arange(binding.size)
    i = np.flatnonzero(row_of_key[key] >= 0)
    return Rows.of(
        "gpu_capacity",
        [(row_of_key[key[i]], ix.offset["run"] + i, job_gpus[i])],
        np.full(binding.size, -INF),
        site_gpus[binding // ix.n_periods],
    )


def link_capacity(sets: WindowSets, ix: ColumnIndex) -> Rows:
    """Per directed link l and period t: Σ_x checkpoint_gb_j · |[dΔ, dΔ+T_x) ∩ t| / T_x · mig[x]
    ≤ n_t · bandwidth · link_efficiency · Δ · 3600 / 8 (less transfers under way), over the arcs
    whose route uses l; only where the arcs could exceed it."""
    loads = [load for arc in sets.arcs for load in arc.loads]
    flat = np.array(loads, float).reshape(len(loads), 3)
    link, slot, gb = flat[:, 0].astype(int), flat[:, 1].astype(int), flat[:, 2]
    x = np.repeat(np.arange(ix.n_arcs), [len(arc.loads) for arc in sets.arcs]).astype(int)
    stride = sets.instance.n_slots + 1
    keys, inverse = np.unique(link * stride + slot, return_inverse=True)
    total = np.bincount(inverse, weights=gb, minlength=keys.size)
    cap, length = sets.link_capacity, sets.grid.length
    capacity = np.array(
        [
            float(cap[li, t : t + length(t)].sum())
            for li, t in zip(keys // stride, keys % stride, strict=True)
        ],
        float,
    )
    binding = total > capacity
    row_of_key = np.cumsum(binding) - 1
    keep = binding[inverse]
    return Rows.of(
        "link_capacity",
        [(row_of_key[inverse[keep]], ix.offset["mig"] + x[keep], gb[keep])],
        np.full(int(binding.sum()), -INF),
        capacity[binding],
    )


def work(sets: WindowSets, ix: ColumnIndex) -> Rows:
    """cum[j,t] = cum[j,t⁻] + n_t·Δ · Σ_s run[j,s,t] (cum[j,e0⁻] = 0)."""
    n = ix.n_jt
    i = np.arange(n)
    later = ix.jt_period > ix.p0[ix.jt_job]
    rows = ix.jt(ix.jst_job, ix.jst_period)
    hours = sets.instance.dt_h * ix.lengths[ix.jst_period]
    cum = ix.offset["cum"]
    return Rows.of(
        "work",
        [
            (i, cum + i, 1.0),
            (i[later], cum + i[later] - 1, -1.0),
            (rows, ix.offset["run"] + np.arange(ix.n_jst), -hours),
        ],
        np.zeros(n),
        np.zeros(n),
    )


def grid_energy(sets: WindowSets, ix: ColumnIndex, par: WindowParameters) -> Rows:
    """g[s,t] ≥ idle_s + pue_s · Σ_j power_j · run[j,s,t] − R[s,t] (and g ≥ 0)."""
    inst = sets.instance
    n = ix.n_sites * ix.n_periods
    i = np.arange(n)
    idle = np.array([s.idle_kw for s in inst.sites], float)
    pue = np.array([s.pue for s in inst.sites], float)
    power = np.array([inst.jobs[j].power_kw for j in sets.jobs], float)
    rows = ix.jst_site * ix.n_periods + ix.jst_period
    coef = pue[ix.jst_site] * power[ix.jst_job]
    return Rows.of(
        "grid",
        [(i, ix.offset["g"] + i, 1.0), (rows, ix.offset["run"] + np.arange(ix.n_jst), -coef)],
        np.repeat(idle, ix.n_periods) - par.R.reshape(n),
        np.full(n, INF),
    )


def completion(sets: WindowSets, ix: ColumnIndex, par: WindowParameters) -> list[Rows]:
    """Exact delay term only: rem_j · done[j,t] ≤ cum[j,t] and done[j,t] ≥ done[j,t⁻]."""
    n = ix.n_jt
    if not ix.block_size["done"]:
        return []
    i = np.arange(n)
    done, cum = ix.offset["done"], ix.offset["cum"]
    needs_work = Rows.of(
        "done_needs_work",
        [(i, done + i, par.rem[ix.jt_job]), (i, cum + i, -1.0)],
        np.full(n, -INF),
        np.zeros(n),
    )
    later = i[ix.jt_period > ix.p0[ix.jt_job]]
    m = np.arange(later.size)
    monotone = Rows.of(
        "done_monotone",
        [(m, done + later, 1.0), (m, done + later - 1, -1.0)],
        np.zeros(later.size),
        np.full(later.size, INF),
    )
    return [needs_work, monotone]


def deadlines(sets: WindowSets, ix: ColumnIndex, par: WindowParameters) -> Rows:
    """miss[j] ≥ each of :func:`~greenopt.optimization.model.deadline_bounds`:
    rem_j − cum[j,k] (if k < t_end) and
    rem_j − cum[j,k⁻] − (D − start_k) + Σ_{x arriving in period k} min(D − kΔ, m_x − kΔ)·mig[x]."""
    dt, entries, arcs = sets.instance.dt_h, sets.entry, sets.arcs
    parts, lower = [], []
    for d, j in enumerate(ix.deadline_jobs):
        k, deadline, entry = deadline_slot(sets, j), sets.instance.jobs[j].deadline_h, entries[j]
        kj, miss = ix.row_of_job[j], ix.offset["miss"] + d
        start = max(k * dt, entry.ready_h) if k == entry.slot else k * dt
        before = sets.grid.prev(k) if k < sets.t_end else sets.grid.starts[-1]
        row = len(lower)
        parts.append((row, miss, 1.0))
        if before >= entry.slot:
            parts.append((row, ix.offset["cum"] + ix.jt(kj, ix.period(before)), 1.0))
        xs = sets.arcs_into_slot.get((j, k), ())
        late = [min(deadline - k * dt, arcs[x].arrive_h - k * dt) for x in xs]
        parts.append((np.full(len(xs), row), ix.offset["mig"] + np.array(xs, int), -np.array(late)))
        lower.append(par.rem[kj] - max(0.0, deadline - start))
        if k < sets.t_end:
            row = len(lower)
            parts.append((row, miss, 1.0))
            if k >= entry.slot:
                parts.append((row, ix.offset["cum"] + ix.jt(kj, ix.period(k)), 1.0))
            lower.append(par.rem[kj])
    return Rows.of("missed_work", parts, np.array(lower, float), np.full(len(lower), INF))


# ---- objective --------------------------------------------------------------------------------


def objective(
    sets: WindowSets, ix: ColumnIndex, arcs: dict, par: WindowParameters, settings: ModelSettings
) -> tuple[np.ndarray, float]:
    """Cost vector and constant of min Δ·Σ n_t·g + Σ E_x·mig[x] + slowdown_weight·delay
    + Σ_j price_j·(rem_j − cum[j,last]) + deadline_price · Σ miss, with delay
    flow:  Σ_j (Δ/W_j) Σ_t n_t·(rem_j − cum[j,t]);   exact:  Σ_j (Δ/W_j) Σ_t n_t·(1 − done[j,t])
    (over slots from the job's arrival, or t0, to t_end; cum = 0 before e0)."""
    inst, dt = sets.instance, sets.instance.dt_h
    weight, n_t = inst.params.slowdown_weight, ix.lengths
    prices = terminal_prices(inst, settings)[ix.jobs]
    c = np.zeros(ix.n_columns)
    c[ix.columns("g")] = np.tile(dt * n_t, ix.n_sites)
    c[ix.columns("mig")] = arcs["energy"]
    entries = [sets.entry[j] for j in sets.jobs]
    scale = np.array([dt / inst.jobs[j].work_h for j in sets.jobs], float)
    before = np.array([e.slot - e.first_delay_slot for e in entries], float)
    per_period = -weight * scale[ix.jt_job] * n_t[ix.jt_period]
    if settings.delay_term == "exact":
        c[ix.columns("done")] = per_period
        counted = before + np.array([n_t[p:].sum() for p in ix.p0], float)
        constant = float(weight * np.sum(scale * counted))
    else:
        c[ix.columns("cum")] = per_period
        waiting = before + sets.t_end - np.array([e.slot for e in entries], float)
        constant = float(weight * np.sum(scale * waiting * par.rem))
    last = ix.offset["cum"] + ix.jt(np.arange(len(ix.jobs)), ix.n_periods - 1)
    np.add.at(c, last, -prices)
    constant += float(np.sum(prices * par.rem))
    c[ix.columns("miss")] = settings.deadline_price
    return c, constant


# ---- the whole model --------------------------------------------------------------------------


@dataclass
class ModelArrays:
    """The window model as arrays: min c·x + offset s.t. row_lower ≤ A·x ≤ row_upper,
    col_lower ≤ x ≤ col_upper, x integral where ``integrality``. ``families`` gives each constraint
    family's rows."""

    sets: WindowSets
    settings: ModelSettings
    index: ColumnIndex
    params: WindowParameters
    c: np.ndarray
    offset: float
    A: sp.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    families: dict[str, slice] = field(default_factory=dict)

    def objective_value(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.offset)

    def size(self) -> dict[str, int]:
        """n_variables, n_binaries, n_constraints (as :func:`model.model_size` counts them)."""
        return {
            "n_variables": int(self.c.size),
            "n_binaries": int(self.integrality.sum()),
            "n_constraints": int(self.A.shape[0]),
        }


def column_bounds(
    sets: WindowSets, ix: ColumnIndex, par: WindowParameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds and integrality of every column (``model.add_*_variables``):
    mig, done ∈ {0,1}; loc ∈ [0,1]; run ∈ [0,1] (u0 at (s0, e0)); cum ∈ [0, rem_j]; g, miss ≥ 0."""
    lower, upper = np.zeros(ix.n_columns), np.full(ix.n_columns, INF)
    for name in ("mig", "loc", "run", "done"):
        upper[ix.columns(name)] = 1.0
    first = np.array([sets.entry[j].usable for j in sets.jobs], float)
    entry_site = np.array([sets.entry[j].site for j in sets.jobs], int)
    k = np.arange(len(ix.jobs))
    at_entry = ix.jst(k, entry_site, ix.p0)
    upper[ix.offset["run"] + at_entry] = first
    upper[ix.columns("cum")] = par.rem[ix.jt_job]
    integral = np.zeros(ix.n_columns, bool)
    integral[ix.columns("mig")] = True
    integral[ix.columns("done")] = True
    return lower, upper, integral


def build_arrays(
    sets: WindowSets, settings: ModelSettings, params: WindowParameters | None = None
) -> ModelArrays:
    """The window model of ``model.build_model(sets, settings)`` as arrays (``params``: the mutable
    parameters' values, default those the sets imply)."""
    ix = ColumnIndex(sets, settings)
    par = params or WindowParameters.of(sets)
    arcs = arc_arrays(sets, ix)
    families = [
        flow_conservation(sets, ix, arcs, par),
        departure_after_arrival(sets, ix, arcs),
        run_limits(sets, ix, arcs),
        gpu_capacity(sets, ix),
        link_capacity(sets, ix),
        work(sets, ix),
        grid_energy(sets, ix, par),
        *completion(sets, ix, par),
        deadlines(sets, ix, par),
    ]
    offsets = np.cumsum([0, *(f.lower.size for f in families)])
    rows = np.concatenate([f.row + o for f, o in zip(families, offsets, strict=False)])
    cols = np.concatenate([f.col for f in families])
    vals = np.concatenate([f.val for f in families])
    keep = vals != 0.0  # Pyomo drops terms with a zero coefficient, e.g. (1 − u_x) for u_x = 1
    A = sp.coo_array(
        (vals[keep], (rows[keep], cols[keep])), shape=(int(offsets[-1]), ix.n_columns)
    ).tocsc()
    A.sum_duplicates()
    c, constant = objective(sets, ix, arcs, par, settings)
    col_lower, col_upper, integral = column_bounds(sets, ix, par)
    return ModelArrays(
        sets=sets,
        settings=settings,
        index=ix,
        params=par,
        c=c,
        offset=constant,
        A=A,
        row_lower=np.concatenate([f.lower for f in families]),
        row_upper=np.concatenate([f.upper for f in families]),
        col_lower=col_lower,
        col_upper=col_upper,
        integrality=integral,
        families={
            f.name: slice(int(a), int(b))
            for f, a, b in zip(families, offsets[:-1], offsets[1:], strict=True)
        },
    )
