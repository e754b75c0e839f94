"""Moving between column vectors of :class:`~greenopt.optimization.arrays.ModelArrays` and
schedules — the arrays backend's counterparts of ``solution.set_start``, ``solve.choose_start`` and
``solution.read_plan``, giving the same values and the same :class:`WindowPlan`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from greenopt.optimization.arrays import ModelArrays
from greenopt.optimization.sets import OptimizationError
from greenopt.optimization.solution import WindowPlan, start_moves, truncate_start
from greenopt.schedule import ScheduleBuilder


def fill_lower_bounded(arrays: ModelArrays, x: np.ndarray, family: str, block: str) -> None:
    """Set the columns of ``block`` (g or miss: each row of ``family`` holds one of them with
    coefficient 1, as v ≥ row_lower − rest) to max(0, the largest such bound)."""
    rows = arrays.families[family]
    A = arrays.A.tocsr()[rows]
    cols = arrays.index.columns(block)
    x[cols] = 0.0
    if A.shape[0] == 0:
        return
    rest = arrays.row_lower[rows] - A @ x
    own = A[:, cols].tocoo()  # the block's column in each row
    values = np.zeros(cols.size)
    np.maximum.at(values, own.col, rest[own.row])
    x[cols] = values


def start_vector(arrays: ModelArrays, builder: ScheduleBuilder) -> np.ndarray:
    """Every column's value in the builder's schedule (``solution.set_start``): mig from its
    migrations, loc from the site at a period's last slot, run the mean over the period's slots of
    run there, cum summed from the entry period (at most rem), done = [cum ≥ rem], g and miss the
    least their rows allow. Migrations departing in the coarse part of the grid are dropped."""
    sets, ix = arrays.sets, arrays.index
    dt, grid = sets.instance.dt_h, sets.grid
    builder = truncate_start(builder, grid.coarse_start)
    moves = start_moves(builder, sets.t0, sets.t_end)
    x = np.zeros(ix.n_columns)
    x[ix.columns("mig")] = [float((a.job, a.src, a.dst, a.depart) in moves) for a in sets.arcs]
    if len(ix.jobs):
        window = slice(sets.t0, sets.t_end)
        site, run = builder.site[ix.jobs, window], builder.run[ix.jobs, window]
        first = ix.starts - sets.t0  # period starts and ends within the window
        site_end = site[:, first + ix.lengths - 1]  # (job, period)
        same = site == np.repeat(site_end, ix.lengths, axis=1)
        mean_run = np.add.reduceat(np.where(same, run, 0.0), first, axis=1) / ix.lengths
        mean_run = np.where(site_end >= 0, mean_run, 0.0)
        k, s, p = ix.jst_job, ix.jst_site, ix.jst_period
        here = site_end[k, p] == s
        x[ix.columns("loc")] = here
        x[ix.columns("run")] = np.where(here, mean_run[k, p], 0.0)
        cum = np.zeros(ix.n_jt)
        for kk in range(len(ix.jobs)):
            p0 = ix.p0[kk]
            hours = np.cumsum(dt * ix.lengths[p0:] * mean_run[kk, p0:])
            cum[ix.jt_base[kk] : ix.jt_base[kk] + ix.width[kk]] = np.minimum(
                arrays.params.rem[kk], hours
            )
        x[ix.columns("cum")] = cum
        if ix.block_size["done"]:
            x[ix.columns("done")] = cum >= arrays.params.rem[ix.jt_job] - 1e-9
    fill_lower_bounded(arrays, x, "grid", "g")
    fill_lower_bounded(arrays, x, "missed_work", "miss")
    return x


def choose_start_vector(
    arrays: ModelArrays, starts: Sequence[ScheduleBuilder]
) -> tuple[int, list[float | None], np.ndarray]:
    """``solve.choose_start`` for arrays: the start with the lowest model objective among those
    whose window migrations are all arcs of the model; its position, every start's objective
    (None: not representable) and its column vector. The first start must be representable."""
    objectives: list[float | None] = []
    vectors: dict[int, np.ndarray] = {}
    for i, builder in enumerate(starts):
        if not arrays.sets.holds(builder):
            objectives.append(None)
            continue
        vectors[i] = start_vector(arrays, builder)
        objectives.append(arrays.objective_value(vectors[i]))
    best = min(vectors, key=lambda i: objectives[i])
    return best, objectives, vectors[best]


def read_plan_vector(arrays: ModelArrays, x: np.ndarray) -> WindowPlan:
    """``solution.read_plan`` for a column vector: arcs with mig > 0.5, the site with loc > 0.5
    and the run fraction there, repeated over every slot of a coarse period. Running where the
    job does not lie (beyond 1e-6) is an error."""
    sets, ix = arrays.sets, arrays.index
    n_jobs, width = len(sets.instance.jobs), sets.t_end - sets.t0
    site = np.full((n_jobs, width), -1)
    run = np.zeros((n_jobs, width))
    mig = x[ix.columns("mig")]
    arcs = [sets.arcs[i] for i in np.flatnonzero(mig > 0.5)]
    loc, values = x[ix.columns("loc")], x[ix.columns("run")]
    k, s, p = ix.jst_job, ix.jst_site, ix.jst_period
    site_p = np.full((len(ix.jobs), ix.n_periods), -1)
    here = np.flatnonzero(loc > 0.5)
    site_p[k[here], p[here]] = s[here]
    there = site_p[k, p] == s
    stray = np.flatnonzero(~there & (values > 1e-6))
    if stray.size:
        i = stray[0]
        raise OptimizationError(
            f"solution runs job {sets.instance.jobs[ix.jobs[k[i]]].job_id} at site {s[i]} in slot "
            f"{ix.starts[p[i]]} ({values[i]:.3g}) where it does not lie"
        )
    run_p = np.zeros((len(ix.jobs), ix.n_periods))
    run_p[k[there], p[there]] = values[there]
    site[ix.jobs] = np.repeat(site_p, ix.lengths, axis=1)
    run[ix.jobs] = np.repeat(run_p, ix.lengths, axis=1)
    return WindowPlan(sets.t0, sorted(arcs, key=lambda a: (a.job, a.depart)), site, run)
