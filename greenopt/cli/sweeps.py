"""Sweep verbs: ``sweep`` (run a sweep file on Dask, resumable) and ``plot-sweep``.

Heavy imports (Dask, matplotlib) happen inside the commands so ``greenopt --help`` stays fast.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer


def sweep(
    file: Annotated[Path, typer.Argument(help="sweep file (experiments/*.toml)")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="output folder (resumable)")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="list the points and exit")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", min=1, help="worker processes (default: cores; Slurm: cores/job)"
        ),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="attach to a running Dask scheduler (tcp://host:port)")
    ] = None,
    scheduler_file: Annotated[
        Path | None, typer.Option(help="attach to the Dask cluster of this scheduler file")
    ] = None,
    slurm: Annotated[
        bool, typer.Option(help="start workers as Slurm jobs (dask-jobqueue)")
    ] = False,
    queue: Annotated[str | None, typer.Option(help="Slurm partition")] = None,
    account: Annotated[str | None, typer.Option(help="Slurm account")] = None,
    walltime: Annotated[str, typer.Option(help="Slurm wall time per job")] = "01:00:00",
    memory: Annotated[str, typer.Option(help="memory per Slurm job")] = "4GB",
    cores_per_job: Annotated[int, typer.Option(min=1, help="worker processes per Slurm job")] = 1,
    death_timeout: Annotated[
        int, typer.Option(min=1, help="Slurm: a worker without scheduler this many s exits")
    ] = 60,
    worker_ttl: Annotated[
        int, typer.Option(min=1, help="Slurm: drop a worker silent this many s, rerun its run")
    ] = 300,
    worker_lifetime: Annotated[
        str,
        typer.Option(
            help="Slurm: workers retire and are replaced after this (auto, off, HH:MM:SS)"
        ),
    ] = "auto",
    lifetime_stagger: Annotated[
        str, typer.Option(help="Slurm: spread of the retirements (auto or HH:MM:SS)")
    ] = "auto",
    print_job_script: Annotated[
        bool, typer.Option(help="print the sbatch script that would be submitted and exit")
    ] = False,
    slurm_runner: Annotated[
        bool, typer.Option(help="run inside one Slurm allocation under srun (SLURMRunner)")
    ] = False,
    retries: Annotated[
        int | None, typer.Option(min=0, help="extra tries of a failing run (default: file)")
    ] = None,
    csv: Annotated[bool, typer.Option(help="also write DIR/results.csv")] = False,
    progress: Annotated[
        bool | None, typer.Option(help="live progress bar (default: on a terminal)")
    ] = None,
) -> None:
    """Run a parameter sweep on Dask into a resumable folder; ends with DIR/results.parquet.

    Exit code 0 when every run finished, 1 when some failed (recorded with their error),
    2 for an invalid sweep file, 130 when interrupted (rerun to resume).
    """
    from greenopt.sweep.config import SweepError, load_sweep

    try:
        sw = load_sweep(file)
    except SweepError as e:
        for p in e.problems:
            typer.echo(p, err=True)
        raise typer.Exit(2) from None

    where = [
        flag
        for flag, used in [
            ("--scheduler", scheduler),
            ("--scheduler-file", scheduler_file),
            ("--slurm", slurm),
            ("--slurm-runner", slurm_runner),
        ]
        if used
    ]
    if len(where) > 1:
        typer.echo(f"choose one place to run: {', '.join(where)}", err=True)
        raise typer.Exit(2)

    from greenopt.sweep.slurm import SlurmOptions, SlurmUnavailable, import_jobqueue

    if slurm or slurm_runner or (print_job_script and not slurm_runner):
        try:  # before anything runs or is written
            import_jobqueue()
        except SlurmUnavailable as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(2) from None

    try:
        opts = SlurmOptions(
            queue,
            account,
            walltime,
            memory,
            cores_per_job,
            death_timeout_s=death_timeout,
            worker_ttl_s=worker_ttl,
            worker_lifetime=worker_lifetime,
            lifetime_stagger=lifetime_stagger,
        )
    except ValueError as e:
        typer.echo(f"Slurm options: {e}", err=True)
        raise typer.Exit(2) from None
    if print_job_script:
        from greenopt.sweep import slurm as slurm_mod

        if slurm_runner:
            ntasks = (workers or 2) + 2
            typer.echo(slurm_mod.allocation_script(file, out or "DIR", opts, ntasks), nl=False)
        else:
            typer.echo(slurm_mod.job_script(opts))
        return
    if dry_run:
        _print_points(sw, out)
        return
    if out is None:
        typer.echo("--out DIR is required to run a sweep", err=True)
        raise typer.Exit(2)

    from greenopt import interrupt
    from greenopt import progress as progress_reports
    from greenopt.cli.progress_display import RichSweepBar
    from greenopt.sweep.execute import run_sweep

    kwargs = dict(retries=retries, csv=csv, progress=progress, live_bar=RichSweepBar)
    if not progress_reports.current().shows_progress:  # greenopt --quiet
        kwargs.update(progress=False, stream=io.StringIO())
    try:
        if slurm_runner:
            from greenopt.sweep.slurm import run_with_slurm_runner

            out.mkdir(parents=True, exist_ok=True)
            report = run_with_slurm_runner(
                out / "scheduler-{job_id}.json",
                lambda client: run_sweep(sw, out, client=client, **kwargs),
            )
        else:
            report = run_sweep(
                sw,
                out,
                workers=workers,
                scheduler=scheduler,
                scheduler_file=scheduler_file,
                slurm=opts if slurm else None,
                **kwargs,
            )
    except interrupt.Interrupted as exc:  # the command line ends it (exit 130 / 143)
        exc.kept = _kept_note(sw, out)
        raise
    except KeyboardInterrupt:
        typer.echo(f"interrupted: finished runs are kept in {out}; rerun to resume", err=True)
        raise typer.Exit(130) from None
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)


def _kept_note(sw, out: Path) -> str:
    """What an interrupted sweep kept, and how to resume."""
    from greenopt.sweep.results import count_finished, finished_runs

    runs = sw.runs()
    done = count_finished(finished_runs(out, runs))
    return (
        f"{done} of {len(runs)} runs finished, kept in {out}/runs/; rerun the same command to "
        "resume"
    )


def _print_points(sw, out: Path | None) -> None:
    """``--dry-run``: the points, each with its run's status in ``out``."""
    import pandas as pd

    from greenopt.sweep.results import count_finished, finished_runs, points_table

    status = finished_runs(out, sw.runs()) if out is not None else {}
    typer.echo(
        f"sweep {sw.name}: {len(sw.points)} points, {len(sw.runs())} distinct runs"
        + (f", {count_finished(status)} finished in {out}" if out else "")
    )
    with pd.option_context("display.max_rows", None, "display.width", 200):
        # na_rep, not fillna(""): pandas 3 warns when filling a numeric column with text
        typer.echo(points_table(sw, status).to_string(index=False, na_rep=""))


def plot_sweep(
    out: Annotated[Path, typer.Argument(help="sweep output folder (with results.parquet)")],
    x: Annotated[str, typer.Option("--x", help="parameter on the x axis")],
    y: Annotated[str, typer.Option("--y", help="metric on the y axis (SPEC §5 name)")],
    hue: Annotated[str | None, typer.Option("--hue", help="one line per value")] = None,
    col: Annotated[str | None, typer.Option("--col", help="one panel per value")] = None,
    where: Annotated[
        list[str] | None, typer.Option("--where", help="pin a parameter: NAME=VALUE (repeatable)")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="image file")] = None,
    xscale: Annotated[str, typer.Option(help="auto, linear or log")] = "auto",
) -> None:
    """Plot a metric against a swept parameter (mean ± std over seeds, one line per hue)."""
    from greenopt.sweep.plot import PlotError, parse_where
    from greenopt.sweep.plot import plot_sweep as draw

    try:
        path = draw(out, x, y, hue, col, parse_where(where or []), output, xscale)
    except (PlotError, FileNotFoundError) as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"wrote {path}")
