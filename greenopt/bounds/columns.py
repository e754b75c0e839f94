"""Column generation for the Lagrangian bound: the Dantzig–Wolfe master over the paths found so
far (HiGHS), whose row duals price the next round of shortest paths
(:mod:`greenopt.bounds.lagrangian` argues why every round gives a valid bound)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from greenopt.bounds.lagrangian import (
    Multipliers,
    Problem,
    evaluate,
    initial_multipliers,
    problem,
    project,
    unpack,
)
from greenopt.instance import Instance
from greenopt.optimization.highs import new_highs
from greenopt.optimization.highs_watch import watch_highs


class ColumnMaster:
    """The Dantzig–Wolfe master of the same relaxation, whose row duals are the multipliers:
    min Δ·Σ g + Σ cost_p·x_p + deadline_price·Σ miss over convex combinations x of each job's
    paths found so far, with the priced rows (energy balance, GPU capacity where it may bind, work,
    deadline rows b_0, b_1). Its optimal duals lie in the multipliers' ranges (g and miss are its
    columns), so L at them is a valid bound; at convergence L equals the master's value, the LP
    relaxation without link rows."""

    def __init__(self, pb: Problem, threads: int, seed: int):
        net, dt = pb.net, pb.net.dt
        S, T, J = pb.renewable.shape[0], net.T, len(net.jobs)
        self.pb, self.S, self.T, self.J = pb, S, T, J
        h = new_highs(threads)
        options = {
            "random_seed": seed,
            "solver": "simplex",
            "presolve": "off",
            "simplex_strategy": 4,
        }
        for key, value in options.items():
            h.setOptionValue(key, value)
        self.h = h
        inf = highspy_inf()
        # rows: grid (S·T, ≥), gpu (binding pairs, ≤), work (J, ≤), convexity (J, =), b0, b1 (≥)
        grid_lower = (pb.idle[:, None] - pb.renewable).ravel()
        n_grid = S * T
        total_gpus = float(net.gpus.sum())
        gpu_sites = [s for s in range(S) if total_gpus > pb.site_gpus[s]]
        self.gpu_row = {s: i for i, s in enumerate(gpu_sites)}
        n_gpu = len(gpu_sites) * T
        early = np.maximum(0.0, net.dl_h - net.dl_start)
        self.b0_jobs = np.flatnonzero(pb.has_rho0)
        self.b1_jobs = np.flatnonzero(pb.has_rho1)
        lower = np.concatenate(
            [
                grid_lower,
                np.full(n_gpu, -inf),
                np.full(J, -inf),
                np.ones(J),
                (net.rem - early)[self.b0_jobs],
                net.rem[self.b1_jobs],
            ]
        )
        upper = np.concatenate(
            [
                np.full(n_grid, inf),
                np.repeat(pb.site_gpus[gpu_sites], T) if gpu_sites else np.zeros(0),
                net.rem,
                np.ones(J),
                np.full(len(self.b0_jobs), inf),
                np.full(len(self.b1_jobs), inf),
            ]
        )
        self.offsets = np.cumsum([0, n_grid, n_gpu, J, J, len(self.b0_jobs)])
        h.addRows(len(lower), lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), [])
        # g[s,t] columns (cost Δ) and miss_j columns (cost deadline_price)
        idx = np.arange(n_grid, dtype=np.int32)
        h.addCols(
            n_grid, np.full(n_grid, dt), np.zeros(n_grid), np.full(n_grid, inf), n_grid,
            idx, idx, np.ones(n_grid),
        )  # fmt: skip
        miss_rows = [
            *(self.offsets[4] + i for i in range(len(self.b0_jobs))),
            *(self.offsets[5] + i for i in range(len(self.b1_jobs))),
        ]
        miss_jobs = [*self.b0_jobs, *self.b1_jobs]
        for job in np.unique(miss_jobs) if miss_jobs else []:
            rows = np.array([r for r, j in zip(miss_rows, miss_jobs, strict=True) if j == job])
            h.addCols(
                1, np.array([pb.deadline_price]), np.zeros(1), np.array([inf]), len(rows),
                np.array([0], np.int32), rows.astype(np.int32), np.ones(len(rows)),
            )  # fmt: skip
        self.b0_row = {int(j): self.offsets[4] + i for i, j in enumerate(self.b0_jobs)}
        self.b1_row = {int(j): self.offsets[5] + i for i, j in enumerate(self.b1_jobs)}
        self.n_columns = 0
        #: row duals of the last solve (None before): columns that would not price out are skipped
        self.row_dual: np.ndarray | None = None

    def add_path(self, i: int, run: np.ndarray, arcs: list[tuple[int, int, int, int]]) -> bool:
        """Add job i's path (its run (S,T) and arcs) as a column, unless its reduced cost at the
        last duals is not negative; returns whether it was added."""
        pb, net, dt, T = self.pb, self.pb.net, self.pb.net.dt, self.T
        s_idx, t_idx = np.nonzero(run)
        values = run[s_idx, t_idx]
        per_slot = np.zeros(T)
        np.add.at(per_slot, t_idx, values * dt)
        cum = np.cumsum(per_slot)
        work = float(cum[-1])
        rows = [s_idx * T + t_idx]
        coefs = [-pb.pue[s_idx] * net.power[i] * values]
        gpu = [(k, v) for k, v in zip(s_idx, range(len(values)), strict=True) if k in self.gpu_row]
        if gpu:
            sel = np.array([v for _, v in gpu])
            rows.append(
                self.offsets[1] + np.array([self.gpu_row[int(k)] for k, _ in gpu]) * T + t_idx[sel]
            )
            coefs.append(net.gpus[i] * values[sel])
        rows.append(np.array([self.offsets[2] + i, self.offsets[3] + i]))
        coefs.append(np.array([work, 1.0]))
        late = sum(
            min(net.dl_h[i] - e * dt, net.tau[i, a, b]) for a, b, _d, e in arcs
            if e == net.dl_slot[i]
        )  # fmt: skip
        k = int(net.dl_slot[i])
        if i in self.b0_row:
            rows.append(np.array([self.b0_row[i]]))
            coefs.append(np.array([(cum[k - 1] if k >= 1 else 0.0) - late]))
        if i in self.b1_row:
            rows.append(np.array([self.b1_row[i]]))
            coefs.append(np.array([cum[k]]))
        t = np.arange(T)
        delay = (
            pb.weight
            * (dt / net.work_h[i])
            * ((T - net.first_delay[i]) * net.rem[i] - float(np.sum(per_slot * (T - t))))
        )
        cost = (
            sum(net.energy[i, a, b] for a, b, _d, _e in arcs)
            + delay
            + net.price[i] * (net.rem[i] - work)
        )
        r = np.concatenate(rows).astype(np.int32)
        c = np.concatenate(coefs).astype(float)
        if self.row_dual is not None and cost - float(self.row_dual[r] @ c) >= -1e-9:
            return False
        self.h.addCols(
            1, np.array([cost]), np.zeros(1), np.array([highspy_inf()]), len(r),
            np.array([0], np.int32), r, c,
        )  # fmt: skip
        self.n_columns += 1
        return True

    def solve(self, time_limit_s: float) -> tuple[float | None, Multipliers | None]:
        """Re-solve (warm); the master's value and its duals as multipliers (None: no duals)."""
        self.h.setOptionValue("time_limit", float(max(time_limit_s, 0.05)))
        with watch_highs(self.h, None):  # a signal stops HiGHS, then raises (highs_watch)
            self.h.run()
        solution = self.h.getSolution()
        if not solution.dual_valid:
            return None, None
        y = np.asarray(solution.row_dual, float)
        self.row_dual = y
        o, S, T, J = self.offsets, self.S, self.T, self.J
        lam = y[: o[1]].reshape(S, T)
        mu = np.zeros((S, T))
        for s, r in self.gpu_row.items():
            mu[s] = -y[o[1] + r * T : o[1] + (r + 1) * T]
        pi = -y[o[2] : o[3]]
        rho0, rho1 = np.zeros(J), np.zeros(J)
        rho0[self.b0_jobs] = y[o[4] : o[5]]
        rho1[self.b1_jobs] = y[o[5] :]
        value = float(self.h.getInfo().objective_function_value)
        return value, project(self.pb, Multipliers(lam, mu, pi, rho0, rho1))


def highspy_inf() -> float:
    import highspy

    return float(highspy.kHighsInf)


def column_bound(
    instance: Instance, settings: Any, deadline: float, target: float | None = None
) -> dict[str, Any]:
    """Best L over column generation (:class:`ColumnMaster`): each round prices every job's
    shortest path at the master's duals — L there is a valid bound — and adds the paths as
    columns. Stops at ``settings.iterations`` rounds, the ``deadline``, or when no path has a
    negative reduced cost or L is within ``settings.gap_tol`` of the master's value (then the
    relaxation is solved)."""
    del target
    if settings.delay_term != "flow":
        raise ValueError("the Lagrangian bound supports the flow delay term only (use method lp)")
    started = time.perf_counter()
    pb = problem(instance, settings)
    master = ColumnMaster(pb, settings.threads, settings.seed)
    net = pb.net
    # start: every job stays at its entry without running (always feasible), then initial prices
    idle_run = np.zeros((len(pb.idle), net.T))
    for i in range(len(net.jobs)):
        master.add_path(i, idle_run, [])
    setup_s = time.perf_counter() - started
    m = initial_multipliers(pb)  # the master's duals once it has been solved
    stable, alpha = None, settings.smoothing
    best, best_round, rounds, master_value, mispriced = -np.inf, 0, 0, None, 0
    dp_s = master_s = 0.0
    while rounds < settings.iterations and time.perf_counter() < deadline:
        # Wentges smoothing: price between the best prices so far and the master's duals
        at = m
        if stable is not None and alpha > 0:
            at = project(pb, unpack(pb, alpha * stable.as_vector() + (1 - alpha) * m.as_vector()))
        t0 = time.perf_counter()
        value, _grad, paths = evaluate(pb, at)
        dp_s += time.perf_counter() - t0
        rounds += 1
        if value > best:
            best, best_round, stable = value, rounds, at
        if master_value is not None and best >= master_value - settings.gap_tol * max(
            1.0, abs(master_value)
        ):
            break  # L is the master's optimum (within gap_tol): the relaxation is solved
        added = sum(master.add_path(i, paths.run[i], paths.arcs[i]) for i in range(len(net.jobs)))
        if added == 0:
            if at is m:
                break  # nothing prices out at the master's duals: solved
            mispriced += 1
            alpha = 0.0 if mispriced > 3 else alpha / 2  # price closer to the master's duals
            continue
        t0 = time.perf_counter()
        master_value, duals = master.solve(deadline - time.perf_counter())
        master_s += time.perf_counter() - t0
        if duals is None:
            break
        m = duals
    return {
        "lower_bound": float(best) if np.isfinite(best) else None,
        "ascent": "columns",
        "rounds": rounds,
        "best_round": best_round,
        "mispriced_rounds": mispriced,
        "master_value": master_value,
        "columns": master.n_columns,
        "setup_s": setup_s,
        "dp_s": dp_s,
        "master_s": master_s,
        "relaxed": "link capacity dropped; energy balance, GPU capacity, work and deadline rows "
        "priced",
        "n_jobs": len(net.jobs),
    }
