"""``greenopt bound INSTANCE``: a lower bound valid for the unrestricted problem."""

from __future__ import annotations

import json as json_module
from pathlib import Path
from typing import Annotated

import typer


def register_bound_command(app: typer.Typer) -> None:
    @app.command()
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
        from greenopt.cli import load_or_exit

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
