"""Run several policies on one instance and tabulate their SPEC §5 metrics side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from greenopt.bounds import BoundResult, BoundSettings, lower_bound
from greenopt.instance import Instance
from greenopt.optimization import ModelSettings, schedule_objective
from greenopt.policies import make_policy
from greenopt.runner import RunResult, run_policy
from greenopt.schedule import write_csv_atomic

#: Columns of the comparison table, in order (SPEC §5 names, then the common objective).
TABLE_METRICS = (
    "nre_kwh",
    "renewable_share",
    "curtailed_kwh",
    "migrations",
    "infeasible_migrations",
    "migrated_gb",
    "slowdown_mean",
    "slowdown_p95",
    "slowdown_std",
    "jct_mean_h",
    "unfinished_jobs",
    "deadline_misses",
    "solve_s",
    "model_gap",
    "objective",
    "lower_bound",
    "bound_ratio",
    "model_bound",
)


@dataclass(frozen=True)
class PolicySpec:
    """A policy to compare: a label for the table, the registered name and its settings."""

    label: str
    name: str
    settings: dict

    @classmethod
    def parse(cls, text: str) -> PolicySpec:
        """``name`` or ``name:key=value:key=value`` (the label is the whole text)."""
        name, *pairs = text.split(":")
        settings = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(f"policy spec {text!r}: expected name:key=value:key=value")
            settings[key.strip()] = value.strip()
        return cls(text, name.strip(), settings)


def compare(
    instance: Instance,
    specs: Sequence[PolicySpec],
    on_result: Callable[[PolicySpec, RunResult], None] | None = None,
    bound: BoundSettings | None = None,
) -> tuple[pd.DataFrame, dict[str, RunResult]]:
    """Run every policy; return the metrics table (one row per policy) and the runs by label.

    Every valid schedule is also scored with the MILP's objective at its default settings
    (``objective``: non-renewable energy + slowdown_weight · flow delay + terminal and deadline
    penalties), so heuristics and solvers compare on one scale; solver policies add their
    ``model_bound`` (a lower bound on their own restricted model only). With ``bound`` settings a
    lower bound valid for the unrestricted problem is computed first (:mod:`greenopt.bounds`, its
    objective must be the scoring one: flow delay, default prices) and every row gets
    ``lower_bound`` and ``bound_ratio`` = objective / lower_bound (also in each run's info). With
    the feasibility filter on, the bound covers schedules whose moves are feasible: a ratio below
    1 can only come from infeasible moves (``infeasible_migrations``)."""
    results: dict[str, RunResult] = {}
    rows = []
    scoring = ModelSettings()
    lower = None
    if bound is not None:
        if (bound.delay_term, bound.terminal_price, bound.deadline_price) != (
            scoring.delay_term,
            scoring.terminal_price,
            scoring.deadline_price,
        ):
            raise ValueError("the bound must use the scoring objective (flow, default prices)")
        lower = lower_bound(instance, bound)
    for spec in specs:
        result = run_policy(instance, make_policy(spec.name, **spec.settings))
        results[spec.label] = result
        objective = None
        if result.simulation.valid:
            objective = schedule_objective(instance, result.schedule, result.simulation, scoring)
        bound_figures = bound_columns(objective, lower)
        result.info.update(bound_figures)
        rows.append(
            {
                "policy": spec.label,
                "valid": result.simulation.valid,
                **result.metrics,
                "objective": objective,
                **bound_figures,
                "model_bound": result.info.get("model_bound"),
            }
        )
        if on_result is not None:
            on_result(spec, result)
    return pd.DataFrame(rows).set_index("policy"), results


def bound_columns(objective: float | None, lower: BoundResult | None) -> dict[str, Any]:
    """``lower_bound``, ``bound_ratio`` (objective / lower_bound) and ``bound_method`` of a row;
    empty without a bound."""
    if lower is None:
        return {}
    value = lower.lower_bound
    ratio = None
    if objective is not None and value is not None and value > 0:
        ratio = objective / value
    return {"lower_bound": value, "bound_ratio": ratio, "bound_method": lower.method}


def file_name(label: str) -> str:
    """A policy label as a portable file name (``rolling:step_h=2`` → ``rolling_step_h-2``)."""
    return label.replace(":", "_").replace("=", "-")


def write_comparison(
    instance: Instance, table: pd.DataFrame, results: dict[str, RunResult], out: Path, focus: str
) -> list[Path]:
    """``comparison.csv``, one schedule folder per policy, and the figures."""
    from greenopt import plots

    out.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(table.reset_index(), out / "comparison.csv")
    for label, result in results.items():
        result.write(out / "runs" / file_name(label))
    focus_result = results[focus]
    return [
        plots.plot_site_power(instance, focus_result, out / f"power_{file_name(focus)}.png"),
        plots.plot_gantt(instance, focus_result, out / f"gantt_{file_name(focus)}.png"),
        plots.plot_policy_bars(table, out / "policies.png"),
    ]
