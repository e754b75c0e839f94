"""Run several policies on one instance and tabulate their SPEC §5 metrics side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from greenopt import interrupt, progress
from greenopt.bounds import BoundResult, BoundSettings, lower_bound
from greenopt.files import write_csv_atomic
from greenopt.instance import Instance
from greenopt.optimization import ModelSettings, schedule_objective
from greenopt.policies import make_policy
from greenopt.policies.base import parse_key_values
from greenopt.runner import RunResult, run_policy

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
        try:
            settings = parse_key_values(pairs)
        except ValueError as exc:
            raise ValueError(f"policy spec {text!r}: {exc} (name:key=value:key=value)") from exc
        return cls(text, name.strip(), settings)


def compare(
    instance: Instance,
    specs: Sequence[PolicySpec],
    on_result: Callable[[PolicySpec, RunResult], None] | None = None,
    out: Path | None = None,
    bound: BoundSettings | None = None,
) -> tuple[pd.DataFrame, dict[str, RunResult]]:
    """Run every policy; return the metrics table (one row per policy) and the runs by label.
    With ``out``, each policy's run folder and the table of the policies finished so far
    (``comparison.csv``) are written as soon as it finishes (:func:`write_finished`), so an
    interrupted comparison keeps them.

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
        with progress.task("lower bound") as bar:
            bar.update(status=f"{bound.method} (at most {bound.time_limit_s:g} s)")
            lower = lower_bound(instance, bound)
    written: list[str] = []  # labels whose run folder and row are on disk
    with (
        progress.task("compare", total=len(specs), eta=False) as bar,
        interrupt.explain(lambda: kept_note(specs, written, out)),
    ):
        for spec in specs:
            bar.update(status=f"running {spec.label}")
            result = run_policy(instance, make_policy(spec.name, **spec.settings))
            results[spec.label] = result
            objective = None
            if result.simulation.valid:
                objective = schedule_objective(
                    instance, result.schedule, result.simulation, scoring
                )
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
            if out is not None:
                with interrupt.deferred():  # the folder and its row, or neither
                    write_finished(out, rows, spec.label, result)
                    written.append(spec.label)
            bar.update(advance=1, status=f"{spec.label} done in {result.wall_s:.1f} s")
            if on_result is not None:
                on_result(spec, result)
    return pd.DataFrame(rows).set_index("policy"), results


def kept_note(specs: Sequence[PolicySpec], finished: list[str], out: Path | None) -> str:
    """What an interrupted comparison kept, and how to go on."""
    if out is None or not finished:
        where = f" to {out}" if out is not None else ""
        return f"no policy had finished; nothing was written{where}; rerun the command"
    rest = ",".join(s.label for s in specs if s.label not in finished)
    return (
        f"{len(finished)} of {len(specs)} policies finished ({', '.join(finished)}), kept in "
        f"{out}/comparison.csv and {out}/runs/; rerun the command for all of them, or only the "
        f"rest with --policies {rest} and another --out"
    )


def write_finished(out: Path, rows: list[dict], label: str, result: RunResult) -> None:
    """The run folder of the policy just finished, then ``comparison.csv`` of every policy finished
    so far (each file atomic: a table never names a folder that is not complete)."""
    result.write(out / "runs" / file_name(label))
    write_csv_atomic(pd.DataFrame(rows), out / "comparison.csv")


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
    instance: Instance,
    table: pd.DataFrame,
    results: dict[str, RunResult],
    out: Path,
    focus: str,
    write_runs: bool = True,
) -> list[Path]:
    """``comparison.csv``, one schedule folder per policy (unless ``write_runs`` is False:
    :func:`compare` wrote them), and the figures."""
    from greenopt import plots

    out.mkdir(parents=True, exist_ok=True)
    write_csv_atomic(table.reset_index(), out / "comparison.csv")
    if write_runs:
        for label, result in results.items():
            result.write(out / "runs" / file_name(label))
    focus_result = results[focus]
    return [
        plots.plot_site_power(instance, focus_result, out / f"power_{file_name(focus)}.png"),
        plots.plot_gantt(instance, focus_result, out / f"gantt_{file_name(focus)}.png"),
        plots.save(plots.plot_tradeoff(table), out / "policies.png"),
    ]


# ---- the table as printed ----------------------------------------------------------------------

#: Short column headers of the printed table, by policy name (the legend gives full labels).
SHORT_NAMES = {
    "static": "static",
    "energy_greedy": "energy",
    "feasibility_greedy": "feasib.",
    "pause_greedy": "pause",
    "milp": "milp",
    "rolling": "rolling",
}

#: Metrics that count things (printed as integers).
COUNT_METRICS = {"migrations", "infeasible_migrations", "unfinished_jobs", "deadline_misses"}


def short_headers(labels: Sequence[str], max_len: int = 8) -> list[str]:
    """Distinct column headers of at most ``max_len`` characters for policy labels: the policy's
    short name, numbered when several labels share it (``rolling1``, ``rolling2``)."""
    names = [label.split(":")[0].strip() for label in labels]
    bases = [SHORT_NAMES.get(name, name)[:max_len] for name in names]
    headers = []
    for i, base in enumerate(bases):
        if bases.count(base) == 1:
            headers.append(base)
        else:
            number = str(bases[: i + 1].count(base))
            headers.append(base[: max_len - len(number)] + number)
    if len(set(headers)) < len(headers):  # a numbered header met a policy's own short name
        headers = [f"P{i + 1}" for i in range(len(labels))]
    return headers


def format_metric(value: object, metric: str = "") -> str:
    """A table cell: "–" for a missing value, integers for counts, about 4 significant digits
    otherwise without exponents down to 0.001 (at most 8 characters below a million)."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    v = float(value)
    if metric in COUNT_METRICS and v.is_integer():
        return f"{int(v)}"
    size = abs(v)
    if v == 0:
        return "0"
    if size >= 1e6:
        return f"{v:.3g}"
    if size >= 1e4:
        return f"{v:,.0f}"
    if size >= 1:
        decimals = 3 - len(str(int(size))) + 1
        return f"{v:.{max(decimals, 0)}f}"
    if size >= 1e-3:
        return f"{v:.3g}"
    return f"{v:.2g}"
