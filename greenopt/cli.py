"""The ``greenopt`` command line (typer). Each verb lives beside the code it drives; this module
only registers them."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from greenopt.console import CommandLine

app = CommandLine(
    add_completion=False,
    no_args_is_help=True,
    help="Feasibility-aware scheduling of AI training jobs across renewable micro-datacenters.",
)


def _print_version(value: bool) -> None:
    if value:
        import greenopt

        typer.echo(f"greenopt {greenopt.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="show no progress (otherwise on stderr: live on a terminal, else a line per task "
            "every GREENOPT_PROGRESS_EVERY_S seconds, default 10)",
        ),
    ] = False,
) -> None:
    """Feasibility-aware scheduling of AI training jobs across renewable micro-datacenters."""
    from greenopt.console import start_progress

    start_progress(ctx, quiet)


# ---- command registrations (one line per module; keep alphabetical) ----------------------------


def load_or_exit(path: Path):
    """Load an instance folder, or print every problem to stderr and exit with code 2; its
    warnings (greenopt.plausibility) go to stderr too."""
    from greenopt.files import InstanceError, load_instance

    try:
        inst = load_instance(path)
    except InstanceError as err:
        for problem in err.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(2) from err
    for warning in inst.warnings:
        typer.echo(warning, err=True)
    return inst


@app.command()
def validate(instance: Annotated[Path, typer.Argument(help="instance folder")]) -> None:
    """Check an instance folder (SPEC §2); print a summary and any warnings (exit 0), or every
    problem and exit 2."""
    inst = load_or_exit(instance)
    p = inst.params
    start = f" from {p.start.isoformat()}" if p.start is not None else ""
    renewable_kwh = float(inst.renewable_kw.sum()) * inst.dt_h
    typer.echo(
        f"{inst.name}: valid. {len(inst.sites)} sites, {len(inst.links)} links, "
        f"{len(inst.jobs)} jobs; {inst.n_slots} slots of {p.slot_minutes:g} min "
        f"(horizon {p.horizon_h:g} h{start}); total renewable energy {renewable_kwh:.6g} kWh."
        + (f" {len(inst.warnings)} warning(s)." if inst.warnings else "")
    )


@app.command()
def generate(
    sites: Annotated[int, typer.Option(help="number of sites")],
    jobs: Annotated[int, typer.Option(help="number of jobs")],
    days: Annotated[float, typer.Option(help="horizon, days (≤ 28; ≤ 366 with --start/--season)")],
    out: Annotated[Path, typer.Option(help="instance folder to write")],
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    start_day: Annotated[
        int | None, typer.Option(help="first day in the 28-day April block (default: random)")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="start date in 2016, e.g. 2016-07-01 (year traces)")
    ] = None,
    season: Annotated[
        str | None, typer.Option(help="winter|spring|summer|autumn: seeded start in it")
    ] = None,
    load: Annotated[float, typer.Option(help="mean demand / mean renewable supply")] = 1.0,
    checkpoint_mix: Annotated[
        str, typer.Option(help="checkpoint sizes: mixed 1–200 GB, light 1–20, heavy 20–200")
    ] = "mixed",
    wan: Annotated[
        str, typer.Option(help="link bandwidths: mixed 1–100 Gbps, thin 1/10, thick 40/100")
    ] = "mixed",
) -> None:
    """Write a seeded synthetic instance on real renewable traces (greenopt.generate)."""
    from greenopt.files import write_instance
    from greenopt.generate import generate_instance

    try:
        inst = generate_instance(
            sites,
            jobs,
            days,
            seed,
            start_day=start_day,
            start=start,
            season=season,
            load=load,
            checkpoint_mix=checkpoint_mix,
            wan=wan,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    write_instance(inst, out)
    typer.echo(
        f"wrote {out}: {len(inst.sites)} sites, {len(inst.links)} links, {len(inst.jobs)} jobs, "
        f"{inst.n_slots} slots from {inst.params.start.isoformat()}"
    )


@app.command()
def evaluate(
    instance: Annotated[Path, typer.Argument(help="instance folder")],
    schedule_dir: Annotated[Path, typer.Argument(help="folder with assignment/migrations.csv")],
    json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Check a schedule (SPEC §4) and print every violation, or its metrics (SPEC §5).
    Exit 0 valid, 1 invalid, 2 unreadable."""
    from greenopt.cli_output import evaluate_schedule

    raise typer.Exit(evaluate_schedule(load_or_exit(instance), schedule_dir, as_json=json))


def wide_console():
    """A rich console; off a terminal (logs, CI) it is wide enough for the metrics tables."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def _parse_floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}") from exc


@app.command()
def feasibility(
    instance: Annotated[Path | None, typer.Argument(help="instance folder (optional)")] = None,
    sizes: Annotated[str, typer.Option(help="checkpoint sizes, GB")] = "1,10,50,100,200,500",
    bandwidths: Annotated[str, typer.Option(help="bottleneck bandwidths, Gbps")] = "1,10,100",
    windows: Annotated[str, typer.Option(help="renewable window lengths, h")] = "2.5,5,9.5",
    alpha: Annotated[
        float | None, typer.Option(help="window fraction (default: instance's)")
    ] = None,
    power_kw: Annotated[float, typer.Option(help="job IT power for break-even, kW")] = 0.3,
    pue: Annotated[float, typer.Option(help="destination PUE for break-even")] = 1.2,
    plot: Annotated[Path | None, typer.Option(help="draw the domain into this PNG")] = None,
) -> None:
    """Print (and plot) the feasibility domain of checkpoint migration (SPEC §3)."""
    from greenopt.feasibility import domain_table, smax_conditions_table, window_statistics
    from greenopt.instance import Parameters

    console = wide_console()
    inst = load_or_exit(instance) if instance is not None else None
    params = inst.params if inst is not None else Parameters(horizon_h=24.0)
    if alpha is not None:
        if not 0 < alpha <= 1:
            raise typer.BadParameter("alpha must lie in (0, 1]")
        params = dataclasses.replace(params, alpha=alpha)
    size_list, bw_list, win_list = (_parse_floats(x) for x in (sizes, bandwidths, windows))
    table = domain_table(params, size_list, bw_list, win_list, power_kw=power_kw, pue=pue)
    console.print(
        f"[bold]Feasibility domain[/] alpha={params.alpha:g}, overhead "
        f"{params.checkpoint_overhead_s:g} s, link efficiency {params.link_efficiency:g}, "
        f"job {power_kw:g} kW at PUE {pue:g}"
    )
    console.print(
        _frame_table(table, {"transfer_s": ".1f", "energy_kwh": ".4f", "break_even_min": ".2f"})
    )
    console.print(
        "[bold]S_max(B, W)[/] largest checkpoint, GB, each condition admits: time (T_mig ≤ "
        "alpha·W), energy (T_be ≤ W); feasible = both, the test of the table above"
    )
    smax = smax_conditions_table(params, bw_list, win_list, power_kw=power_kw, pue=pue)
    console.print(_frame_table(smax, dict.fromkeys(("time_gb", "energy_gb", "feasible_gb"), ".1f")))
    if inst is not None:
        console.print(f"[bold]Renewable windows per site[/] ({inst.name}, median job power)")
        console.print(_frame_table(window_statistics(inst), {}))
    if plot is not None:
        from greenopt.plots import plot_feasibility_domain

        plot_feasibility_domain(params, win_list, path=plot)
        console.print(f"wrote {plot}")


def _frame_table(frame, formats: dict[str, str]):
    """A rich table of a DataFrame (floats with 3 significant digits unless told)."""
    from rich.table import Table

    table = Table()
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row, strict=True):
            if value is None or (isinstance(value, float) and value != value):
                cells.append("–")
            elif isinstance(value, bool):
                cells.append("yes" if value else "no")
            elif isinstance(value, float):
                cells.append(format(value, formats.get(col, ".4g")))
            else:
                cells.append(str(value))
        table.add_row(*cells)
    return table


_SETTING_OPTIONS = {
    "time_limit": "time_limit_s",
    "gap": "mip_rel_gap",
    "threads": "threads",
    "seed": "seed",
    "step_h": "step_h",
    "lookahead_h": "lookahead_h",
    "forecast": "forecast",
    "forecast_error": "forecast_error",
}


def _flag(option: str) -> str:
    """The command-line flag of a ``solve`` parameter (``time_limit`` → ``--time-limit``)."""
    if option == "feasibility_filter":
        return "--no-feasibility-filter"
    return "--" + option.replace("_", "-")


def policy_settings(policy: str, given: dict, pairs: list[str]) -> dict:
    """Settings for ``policy`` from named options (those not None) and ``--set key=value`` pairs,
    checked against the policy's settings model."""
    from greenopt.policies import policy_classes
    from greenopt.policies.base import parse_key_values

    classes = policy_classes()
    if policy not in classes:
        raise typer.BadParameter(f"unknown policy {policy!r}; choose from {', '.join(classes)}")
    fields = classes[policy].Settings.model_fields
    settings = {}
    for option, value in given.items():
        if value is None:
            continue
        key = _SETTING_OPTIONS.get(option, option)
        if key not in fields:
            raise typer.BadParameter(f"policy {policy!r} has no setting {key!r} ({_flag(option)})")
        settings[key] = value
    known = ", ".join(fields)
    try:
        pairs_given = parse_key_values(pairs)
    except ValueError as exc:
        raise typer.BadParameter(f"{exc} with KEY one of {known}", param_hint="--set") from exc
    for key, value in pairs_given.items():
        if key not in fields:
            raise typer.BadParameter(
                f"{key}={value}: policy {policy!r} has no setting {key!r}; it has {known}",
                param_hint="--set",
            )
        settings[key] = value
    return settings


def make_policy_or_exit(name: str, settings: dict):
    """The policy, or each settings problem on one line of stderr and exit 2."""
    import pydantic

    from greenopt.policies import make_policy
    from greenopt.policies.base import settings_errors

    try:
        return make_policy(name, **settings)
    except pydantic.ValidationError as exc:
        for line in settings_errors(exc):
            typer.echo(f"{name}: {line}", err=True)
        raise typer.Exit(2) from None


@app.command()
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
        _frame_table(
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


def solver_note(info: dict) -> str | None:
    """One line on how a solver policy ended: proven, stopped at its time limit with an incumbent,
    or (rolling) how many steps did so or fell back to the greedy policy."""
    status = info.get("solver_status")
    gap = info.get("model_gap")
    gap_text = f"{100 * gap:.2f} %" if gap is not None else "unknown"
    bound = info.get("model_bound")
    bound_text = f"{bound:.6g}" if bound is not None else "unknown"
    if status == "time_limit":
        return (
            f"time limit reached: using the best schedule found (model gap {gap_text}, model bound "
            f"{bound_text})"
        )
    if status == "optimal":
        return (
            f"solved to the requested gap (model gap {gap_text}; model bound {bound_text}, "
            "of the restricted model)"
        )
    if "steps" in info:
        return (
            f"{info['steps']} steps: {info.get('time_limit_steps', 0)} stopped at their time "
            f"limit with an incumbent, {info.get('fallback_steps', 0)} fell back to "
            f"feasibility_greedy; median step gap {gap_text}"
        )
    return None


#: The default line-up of ``greenopt compare``: every heuristic, the offline MILP and the rolling
#: MILP on a noisy forecast, with time limits that keep instances/default under 5 minutes.
DEFAULT_COMPARISON = (
    "static,energy_greedy,feasibility_greedy,pause_greedy,"
    "milp:time_limit_s=90,rolling:forecast=noisy:step_h=2:time_limit_s=4"
)


@app.command()
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

    from greenopt.bounds import BoundSettings, choose_method

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


def print_comparison(console, table: pd.DataFrame) -> None:
    """The comparison as metrics (rows) by policies (columns) under short distinct headers, split
    into several tables when the policies do not fit the console's width, then a legend of the
    headers that are not the policy's label."""
    from rich import box
    from rich.table import Table

    from greenopt.compare import TABLE_METRICS, format_metric, short_headers

    metrics = [m for m in TABLE_METRICS if m in table.columns]
    labels = [str(label) for label in table.index]
    headers = short_headers(labels)
    columns = {
        header: [format_metric(table.loc[label, m], m) for m in metrics]
        for header, label in zip(headers, labels, strict=True)
    }
    metric_width = max(len("metric"), *(len(m) for m in metrics))
    widths = {h: max(len(h), *(len(c) for c in cells)) for h, cells in columns.items()}
    groups: list[list[str]] = [[]]
    used = metric_width
    for header in headers:  # a column is a separator, a space and its widest cell
        if groups[-1] and used + 2 + widths[header] > console.width:
            groups.append([])
            used = metric_width
        groups[-1].append(header)
        used += 2 + widths[header]
    for group in groups:
        out = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0), pad_edge=False)
        out.add_column("metric", justify="left", no_wrap=True, min_width=metric_width)
        for header in group:
            out.add_column(header, justify="right", no_wrap=True, min_width=widths[header] + 1)
        for i, metric in enumerate(metrics):
            out.add_row(metric, *(columns[h][i] for h in group))
        console.print(out)
    for header, label in zip(headers, labels, strict=True):
        if header != label:
            console.print(f"  {header} = {label}", highlight=False, soft_wrap=False)


# ---- sweeps: `sweep`, `plot-sweep` (greenopt/sweep/commands.py) ---------------------------------
from greenopt.sweep.commands import register_sweep_commands  # noqa: E402

register_sweep_commands(app)

# ---- lower bounds: `bound` (greenopt/bounds/commands.py) -----------------------------------------
from greenopt.bounds.commands import register_bound_command  # noqa: E402

register_bound_command(app)

# ---- the report: `paper` (greenopt/paper/commands.py) ------------------------------------------
from greenopt.paper.commands import register_paper_command  # noqa: E402

register_paper_command(app)
