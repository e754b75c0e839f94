"""Verbs that schedule and score: ``solve`` (one policy), ``evaluate`` (a schedule from files),
``compare`` (several policies) and ``bound`` (a lower bound on the objective)."""

from __future__ import annotations

import json as json_module
import sys
from pathlib import Path
from typing import Annotated

import typer

from greenopt.cli.common import load_or_exit, make_policy_or_exit, policy_settings
from greenopt.cli.output import (
    frame_table,
    print_comparison,
    print_result,
    solver_note,
    wide_console,
)


def solve(
    instance: Annotated[Path, typer.Argument(help="instance folder")],
    policy: Annotated[str, typer.Option(help="policy name")] = "feasibility_greedy",
    out: Annotated[Path, typer.Option(help="folder for assignment/migrations/metrics")] = Path(
        "out/solve"
    ),
    time_limit: Annotated[float | None, typer.Option(help="solver: whole-solve limit, s")] = None,
    gap: Annotated[float | None, typer.Option(help="solver: relative MIP gap")] = None,
    threads: Annotated[int | None, typer.Option(help="solver: HiGHS threads")] = None,
    seed: Annotated[int | None, typer.Option(help="solver / forecast seed")] = None,
    step_h: Annotated[float | None, typer.Option(help="rolling: step, h")] = None,
    lookahead_h: Annotated[float | None, typer.Option(help="rolling: lookahead, h")] = None,
    forecast: Annotated[str | None, typer.Option(help="perfect|persistence|noisy")] = None,
    forecast_error: Annotated[float | None, typer.Option(help="noisy forecast error")] = None,
    no_feasibility_filter: Annotated[
        bool,
        typer.Option(
            "--no-feasibility-filter",
            help="allow infeasible moves (milp, rolling, feasibility_greedy)",
        ),
    ] = False,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="any policy setting, KEY=VALUE")
    ] = None,
) -> None:
    """Run one policy, simulate its schedule on the actual traces, write DIR/{assignment,
    migrations}.csv and DIR/metrics.json."""
    import pandas as pd

    from greenopt import interrupt
    from greenopt.runner import run_policy

    inst = load_or_exit(instance)
    given = {
        "time_limit": time_limit,
        "gap": gap,
        "threads": threads,
        "seed": seed,
        "step_h": step_h,
        "lookahead_h": lookahead_h,
        "forecast": forecast,
        "forecast_error": forecast_error,
        "feasibility_filter": False if no_feasibility_filter else None,
    }
    pol = make_policy_or_exit(policy, policy_settings(policy, given, set_ or []))
    with interrupt.explain(lambda: f"nothing was written to {out}; rerun the command"):
        result = run_policy(inst, pol)
    with interrupt.deferred():  # the whole folder, even if a signal comes while it is written
        result.write(out)
        interrupt.note_kept(f"the run had finished and is written to {out}")
    console = wide_console()
    console.print(f"[bold]{result.policy}[/] on {inst.name}: {result.settings}")
    metrics = result.metrics
    console.print(
        frame_table(
            pd.DataFrame([metrics]).T.reset_index().set_axis(["metric", "value"], axis=1), {}
        )
    )
    note = solver_note(result.info)
    if note:
        console.print(note)
    if not result.simulation.valid:
        console.print("[red]schedule INVALID[/]")
        raise typer.Exit(1)
    console.print(f"wrote {out}/assignment.csv, migrations.csv, metrics.json")


def evaluate(
    instance: Annotated[Path, typer.Argument(help="instance folder")],
    schedule_dir: Annotated[Path, typer.Argument(help="folder with assignment/migrations.csv")],
    json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Check a schedule (SPEC §4) and print every violation, or its metrics (SPEC §5).
    Exit 0 valid, 1 invalid, 2 unreadable."""
    from greenopt.files.schedule_files import ScheduleReadError, read_schedule
    from greenopt.simulation import simulate

    inst = load_or_exit(instance)
    try:
        schedule = read_schedule(schedule_dir)
    except ScheduleReadError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        raise typer.Exit(2) from None
    result = simulate(inst, schedule)
    if json:
        print(json_module.dumps(result.to_json(), indent=1))
    else:
        print_result(result)
    raise typer.Exit(0 if result.valid else 1)


#: The default line-up of ``greenopt compare``: every heuristic, the offline MILP and the rolling
#: MILP on a noisy forecast, with time limits that keep instances/default under 5 minutes.
DEFAULT_COMPARISON = (
    "static,energy_greedy,feasibility_greedy,pause_greedy,"
    "milp:time_limit_s=90,rolling:forecast=noisy:step_h=2:time_limit_s=4"
)


def compare(
    instance: Annotated[Path, typer.Argument(help="instance folder")],
    policies: Annotated[
        str, typer.Option(help="comma-separated policies, each NAME or NAME:KEY=VALUE:KEY=VALUE")
    ] = DEFAULT_COMPARISON,
    out: Annotated[Path, typer.Option(help="folder for comparison.csv, runs/ and plots")] = Path(
        "out/compare"
    ),
    focus: Annotated[
        str | None, typer.Option(help="policy whose power and Gantt plots are drawn (last one)")
    ] = None,
    bound: Annotated[
        bool | None,
        typer.Option(
            "--bound/--no-bound",
            help="compute a lower bound valid for the unrestricted problem and each policy's "
            "bound_ratio (default: on where the full LP is small enough for 'auto' to pick it)",
        ),
    ] = None,
    bound_time_limit: Annotated[float, typer.Option(help="bound: wall-clock budget, s")] = 120.0,
) -> None:
    """Run several policies on one instance, print one table of SPEC §5 metrics, write
    comparison.csv, each run's schedule and metrics, and plots."""
    import time

    from greenopt import interrupt
    from greenopt.bounds import BoundSettings, choose_method
    from greenopt.compare import PolicySpec, compare, write_comparison
    from greenopt.policies import policy_classes

    console = wide_console()
    inst = load_or_exit(instance)
    try:
        specs = [PolicySpec.parse(p) for p in policies.split(",") if p.strip()]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    unknown = [s.name for s in specs if s.name not in policy_classes()]
    if unknown:
        raise typer.BadParameter(f"unknown policies {unknown}; have {sorted(policy_classes())}")
    for spec in specs:  # settings errors before anything runs
        make_policy_or_exit(spec.name, spec.settings)
    focus = focus or specs[-1].label
    if focus not in {s.label for s in specs}:
        raise typer.BadParameter(f"--focus {focus!r} is not one of the policies compared")
    start = time.perf_counter()

    def progress(spec, result) -> None:
        limit = result.settings.get("time_limit_s")
        limit_text = f", time limit {limit:g} s" if limit is not None else ""
        note = solver_note(result.info)
        console.print(
            f"  {spec.label}: done in {result.wall_s:.1f} s{limit_text}"
            + (f" — {note}" if note else "")
        )

    bound_settings = BoundSettings(time_limit_s=bound_time_limit)
    if bound is None:
        bound = choose_method(inst, bound_settings) == "lp"
    console.print(f"[bold]Comparing {len(specs)} policies on {inst.name}[/]")
    if bound:
        method = choose_method(inst, bound_settings)
        console.print(f"  lower bound first ({method}, at most {bound_time_limit:g} s; --no-bound)")
    table, results = compare(
        inst, specs, on_result=progress, out=out, bound=bound_settings if bound else None
    )
    interrupt.note_kept(f"every policy finished, kept in {out} (the plots may be missing)")
    print_comparison(console, table)
    if "lower_bound" in table.columns:
        value = table["lower_bound"].iloc[0]
        console.print(
            f"lower_bound {value:.6g} ({table['bound_method'].iloc[0]}, valid for every schedule "
            "with feasible moves; bound_ratio = objective / lower_bound)"
            if value == value and value is not None
            else "no lower bound within --bound-time-limit"
        )
    for path in write_comparison(inst, table, results, out, focus, write_runs=False):
        console.print(f"wrote {path}")
    console.print(f"wrote {out / 'comparison.csv'} ({time.perf_counter() - start:.0f} s in all)")
    if not table["valid"].all():
        console.print("[red]some schedules are INVALID[/]")
        raise typer.Exit(1)


def bound(
    instance: Annotated[Path, typer.Argument(help="instance folder")],
    method: Annotated[
        str, typer.Option(help="auto | lp (LP relaxation) | lagrangian (scales)")
    ] = "auto",
    time_limit: Annotated[float, typer.Option(help="wall-clock budget, s")] = 600.0,
    lp_algorithm: Annotated[str, typer.Option(help="lp: ipm | simplex | pdlp")] = "ipm",
    iterations: Annotated[int, typer.Option(help="lagrangian: most rounds")] = 400,
    ascent: Annotated[str, typer.Option(help="lagrangian: columns | subgradient")] = "columns",
    threads: Annotated[int, typer.Option(help="HiGHS threads")] = 1,
    no_feasibility_filter: Annotated[
        bool,
        typer.Option(
            "--no-feasibility-filter", help="bound every valid schedule, infeasible moves too"
        ),
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Print a lower bound on the SPEC §6 objective (flow delay term, default prices) valid for
    every schedule of the instance: every site, a departure at any slot."""
    import pydantic

    from greenopt.bounds import BoundSettings, lower_bound

    inst = load_or_exit(instance)
    try:
        settings = BoundSettings(
            method=method,
            time_limit_s=time_limit,
            lp_algorithm=lp_algorithm,
            iterations=iterations,
            ascent=ascent,
            threads=threads,
            feasibility_filter=not no_feasibility_filter,
        )
    except pydantic.ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    result = lower_bound(inst, settings)
    payload = result.to_json()
    if json:
        typer.echo(json_module.dumps(payload, indent=1, default=str))
        return
    value = "none" if result.lower_bound is None else f"{result.lower_bound:.6g}"
    typer.echo(f"{inst.name}: lower_bound {value} ({result.method}, {result.time_s:.1f} s)")
    typer.echo(f"objective: {payload['objective']}")
    for key, item in payload.items():
        if key not in ("lower_bound", "method", "time_s", "objective", "settings"):
            typer.echo(f"  {key}: {item}")
    typer.echo(f"settings: {payload['settings']}")
