"""The ``greenopt`` command line (typer): the app, its options, and its verbs in the order
``greenopt --help`` lists them. Each verb is a function in the module of its area; only this
package imports typer or rich (``tests/test_layout.py``)."""

from __future__ import annotations

from typing import Annotated

import typer

from greenopt.cli import instances, paper, solve, sweeps
from greenopt.cli.common import CommandLine

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
    from greenopt.cli.progress_display import start_progress

    start_progress(ctx, quiet)


# ---- the verbs, as `greenopt --help` lists them ---------------------------------------------
app.command("validate")(instances.validate)
app.command("generate")(instances.generate)
app.command("evaluate")(solve.evaluate)
app.command("feasibility")(instances.feasibility)
app.command("solve")(solve.solve)
app.command("compare")(solve.compare)
app.command("sweep")(sweeps.sweep)
app.command("plot-sweep")(sweeps.plot_sweep)
app.command("bound")(solve.bound)
app.command("paper")(paper.paper)
