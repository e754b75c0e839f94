"""The ``paper`` verb: regenerate the report (:func:`greenopt.paper.build.build_paper`)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

#: Wall time of each build size, measured on a shared 2-core machine (``greenopt paper --size
#: quick --out /tmp/x``: 37 s wall, 16 s CPU; full: the committed report's own record).
MEASURED_WALL = {"full": "13.3 min", "quick": "37 s"}


def paper(
    out: Annotated[Path, typer.Option("--out", "-o", help="report folder")] = Path("paper"),
    size: Annotated[
        str,
        typer.Option(
            help=f"full (the committed report; {MEASURED_WALL['full']} measured on a shared "
            f"2-core machine) or quick ({MEASURED_WALL['quick']} measured there)"
        ),
    ] = "full",
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Dask workers (default: cores)")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="keep finished runs of an interrupted build (OUT/.work)")
    ] = False,
    experiments: Annotated[
        Path | None,
        typer.Option(
            help="folder of the sweep files (default: the copies bundled with greenopt, the same "
            "as the repository's experiments/)"
        ),
    ] = None,
) -> None:
    """Regenerate the report: run the experiments, write OUT/README.md, figures/ and tables/."""
    from greenopt.interrupt import Interrupted
    from greenopt.paper.build import TemplateError, build_paper
    from greenopt.paper.experiments import SIZES

    if size not in SIZES:
        raise typer.BadParameter(f"--size must be one of {', '.join(SIZES)}")
    command = "greenopt paper " + shlex.join(sys.argv[2:]) if len(sys.argv) > 2 else None
    try:
        result = build_paper(
            out, size, workers=workers, resume=resume, experiments=experiments, command=command
        )
    except Interrupted as exc:  # the command line ends it (exit 130 / 143)
        exc.kept = f"finished runs are kept in {out / '.work' / size}; rerun with --resume to go on"
        raise
    except (FileNotFoundError, TemplateError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"wrote {result.report} ({len(result.figures)} figures, {len(result.tables)} tables) "
        f"in {result.wall_s:.0f} s"
    )
