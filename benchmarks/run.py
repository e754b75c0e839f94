"""Benchmark greenopt's optimizer: per size and policy, model build, hand-off to HiGHS, solve,
model size, peak memory, MIP gap and (rolling) per-step times and gaps; printed as a table and
written to a CSV.

    python -m benchmarks.run --sizes S,M --policies milp,rolling --out benchmarks/results/run.csv

Each (size, policy) runs in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.registry import POLICIES, SIZES, append_rows

#: Columns of the CSV, in order.
COLUMNS = [
    "size",
    "policy",
    "sites",
    "jobs",
    "slots",
    "wall_s",
    "build_s",
    "handoff_s",
    "solve_s",
    "build_share",
    "n_variables",
    "n_constraints",
    "n_binaries",
    "peak_rss_mib",
    "model_gap",
    "steps",
    "step_wall_p50_s",
    "step_wall_p90_s",
    "step_wall_max_s",
    "steps_over_limit",
    "first_step_s",
    "resolve_step_p50_s",
    "step_gap_p10",
    "step_gap_p50",
    "step_gap_p90",
    "step_gap_max",
    "fallback_steps",
    "param_update_s",
    "step_rebuild_s",
    "valid",
    "nre_kwh",
    "slowdown_mean",
    "unfinished_jobs",
    "objective",
    "backend",
    "settings",
]


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def rolling_columns(info: dict[str, Any], time_limit_s: float) -> dict[str, Any]:
    """Per-step distributions of a rolling run (``info["step_records"]``); model sizes are the
    largest step's."""
    recs = info["step_records"]
    solved = [r for r in recs if r.get("model_gap") is not None]
    walls = [r["wall_s"] for r in recs]
    gaps = [r["model_gap"] for r in solved]
    return {
        "build_s": sum(r.get("sets_s", 0.0) + r.get("model_s", 0.0) for r in recs),
        "handoff_s": sum(r.get("handoff_s", 0.0) for r in recs),
        "solve_s": sum(r.get("solve_s", 0.0) for r in recs),
        **{k: max((r[k] for r in solved), default=None) for k in SIZE_KEYS},
        "model_gap": percentile(gaps, 50),
        "steps": len(recs),
        "step_wall_p50_s": percentile(walls, 50),
        "step_wall_p90_s": percentile(walls, 90),
        "step_wall_max_s": max(walls, default=None),
        "steps_over_limit": sum(w > time_limit_s for w in walls),
        "first_step_s": walls[0] if walls else None,
        "resolve_step_p50_s": percentile(walls[1:], 50),
        "step_gap_p10": percentile(gaps, 10),
        "step_gap_p50": percentile(gaps, 50),
        "step_gap_p90": percentile(gaps, 90),
        "step_gap_max": max(gaps, default=None),
        "fallback_steps": info["fallback_steps"],
    }


SIZE_KEYS = ("n_variables", "n_constraints", "n_binaries")


def param_update_cost(instance: Any, settings: Any) -> dict[str, float]:
    """Persistent re-solve: build and solve the first rolling window, then give the model a new
    forecast (R) and push it to HiGHS; the update's cost beside the window's build from scratch."""
    from greenopt.forecast import make_forecaster
    from greenopt.optimization import WindowState, solve_window

    dt = instance.dt_h
    look = int(round(settings.lookahead_h / dt))
    step = max(1, int(round(settings.step_h / dt)))
    coarse = None
    if settings.coarsen_after_h > 0:
        coarse = max(step, int(round(settings.coarsen_after_h / dt)))
    view = instance.with_renewable(
        make_forecaster("noisy", settings.forecast_error, 1).forecast(instance.renewable_kw, 0, dt)
    )
    result = solve_window(
        view,
        WindowState.initial(instance),
        min(look, instance.n_slots),
        settings,
        coarse_start=coarse,
    )
    model, grid = result.model, result.sets.grid
    other = make_forecaster("noisy", settings.forecast_error, 2).forecast(
        instance.renewable_kw, 0, dt
    )
    started = time.perf_counter()
    if settings.backend == "arrays":
        R = np.array(
            [
                [other[s, t : t + grid.length(t)].mean() for t in grid.starts]
                for s in range(len(other))
            ]
        )
        result.solver.update_parameters(dataclasses.replace(model.params, R=R))
    else:
        for s, t in model.ST:
            model.R[s, t] = float(other[s, t : t + grid.length(t)].mean())
        result.solver.update_parameters()
    update_s = time.perf_counter() - started
    return {"param_update_s": update_s, "step_rebuild_s": result.build_s}


def run_case(
    size_name: str, policy_key: str, overrides: dict[str, Any], steps_out: Path | None = None
) -> dict[str, Any]:
    """Run one (size, policy) in this process; one CSV row (and, for rolling, its step records
    appended to ``steps_out``)."""
    from greenopt.optimization import schedule_objective
    from greenopt.policies import make_policy
    from greenopt.simulation import simulate

    size, run = SIZES[size_name], POLICIES[policy_key]
    instance = size.instance()
    settings = {**run.settings, **overrides}
    policy = make_policy(run.policy, **settings)
    started = time.perf_counter()
    output = policy.plan(instance)
    wall = time.perf_counter() - started
    sim = simulate(instance, output.schedule)
    info = output.info
    row: dict[str, Any] = {
        "size": size_name,
        "policy": policy_key,
        "sites": size.sites,
        "jobs": size.jobs,
        "slots": instance.n_slots,
        "wall_s": wall,
        "backend": policy.settings.backend,
        "settings": json.dumps(settings, sort_keys=True),
        "valid": sim.valid,
        **{k: (sim.metrics or {}).get(k) for k in ("nre_kwh", "slowdown_mean", "unfinished_jobs")},
        "objective": (
            schedule_objective(instance, output.schedule, sim, policy.settings)
            if sim.valid
            else None
        ),
    }
    if run.policy == "rolling":
        row.update(rolling_columns(info, policy.settings.time_limit_s))
        if steps_out is not None:  # every step's record, for the distributions
            frame = pd.DataFrame(info["step_records"]).assign(size=size_name, policy=policy_key)
            append_rows(steps_out, frame)
        row.update(param_update_cost(instance, policy.settings))
    else:
        row.update(
            build_s=info["sets_s"] + info["model_s"],
            handoff_s=info["handoff_s"],
            solve_s=info["solve_s"],
            model_gap=info["model_gap"],
            **{k: info[k] for k in SIZE_KEYS},
        )
    row["build_share"] = (row["build_s"] + row["handoff_s"]) / wall
    row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def run_isolated(
    size: str, policy: str, overrides: dict[str, Any], steps_out: Path | None = None
) -> dict[str, Any]:
    """:func:`run_case` in a fresh Python process (``--case``), for its own peak RSS."""
    command = [sys.executable, "-m", "benchmarks.run", "--case", size, policy]
    if steps_out is not None:
        command += ["--steps", str(steps_out.resolve())]
    done = subprocess.run(
        [*command, "--set", json.dumps(overrides)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    if done.returncode != 0:
        raise RuntimeError(f"{size}/{policy} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, " + (
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="S,M,L", help=f"comma-separated of {list(SIZES)}")
    parser.add_argument("--policies", default="milp,rolling", help=f"of {list(POLICIES)}")
    parser.add_argument("--set", default="{}", help="JSON settings overriding the registry's")
    parser.add_argument("--out", type=Path, default=None, help="CSV to write (appended to)")
    parser.add_argument("--steps", type=Path, default=None, help="CSV of every rolling step")
    parser.add_argument("--in-process", action="store_true", help="no subprocess per run")
    parser.add_argument("--case", nargs=2, metavar=("SIZE", "POLICY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    overrides = json.loads(args.set)
    if args.case:  # child of run_isolated: one JSON row on stdout
        print(json.dumps(run_case(*args.case, overrides, args.steps)))
        return pd.DataFrame()
    rows = []
    for size in args.sizes.split(","):
        for policy in args.policies.split(","):
            if size not in SIZES or policy not in POLICIES:
                parser.error(f"unknown size {size!r} or policy {policy!r}")
            runner = run_case if args.in_process else run_isolated
            row = runner(size, policy, overrides, args.steps)
            row["machine"] = machine()
            rows.append(row)
            print(f"{size} {policy}: wall {row['wall_s']:.1f} s", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows, columns=[*COLUMNS, "machine"])
    if args.out is not None:
        append_rows(args.out, table)
    print(format_table(table))
    return table


def format_table(table: pd.DataFrame) -> str:
    """One column per run, one row per measure; floats to 4 significant digits."""

    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "-"
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    shown = table.drop(columns=["settings", "machine"]).map(cell)
    shown.index = [f"{r.size}/{r.policy}" for r in table.itertuples()]
    return shown.drop(columns=["size", "policy"]).T.to_string()


if __name__ == "__main__":
    main()
