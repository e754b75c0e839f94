"""The ``greenopt`` command line (typer). Each verb lives beside the code it drives; this module
only registers them."""

from __future__ import annotations

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Feasibility-aware scheduling of training jobs across renewable-powered micro-datacenters.",
)

# ---- command registrations (one line per module; keep alphabetical) ----------------------------
