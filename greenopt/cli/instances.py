"""Verbs on instances: ``validate``, ``generate`` and ``feasibility`` (the migration domain)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from greenopt.cli.common import load_or_exit, parse_floats
from greenopt.cli.output import frame_table, wide_console


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
    size_list, bw_list, win_list = (parse_floats(x) for x in (sizes, bandwidths, windows))
    table = domain_table(params, size_list, bw_list, win_list, power_kw=power_kw, pue=pue)
    console.print(
        f"[bold]Feasibility domain[/] alpha={params.alpha:g}, overhead "
        f"{params.checkpoint_overhead_s:g} s, link efficiency {params.link_efficiency:g}, "
        f"job {power_kw:g} kW at PUE {pue:g}"
    )
    console.print(
        frame_table(table, {"transfer_s": ".1f", "energy_kwh": ".4f", "break_even_min": ".2f"})
    )
    console.print(
        "[bold]S_max(B, W)[/] largest checkpoint, GB, each condition admits: time (T_mig ≤ "
        "alpha·W), energy (T_be ≤ W); feasible = both, the test of the table above"
    )
    smax = smax_conditions_table(params, bw_list, win_list, power_kw=power_kw, pue=pue)
    console.print(frame_table(smax, dict.fromkeys(("time_gb", "energy_gb", "feasible_gb"), ".1f")))
    if inst is not None:
        console.print(f"[bold]Renewable windows per site[/] ({inst.name}, median job power)")
        console.print(frame_table(window_statistics(inst), {}))
    if plot is not None:
        from greenopt.plots import plot_feasibility_domain

        plot_feasibility_domain(params, win_list, path=plot)
        console.print(f"wrote {plot}")
