"""What the verbs share: the typer app class that ends interrupted commands cleanly, loading an
instance or exiting, and policy settings from options.

:class:`CommandLine` turns SIGINT and SIGTERM into :class:`greenopt.interrupt.Interrupted` for the
whole command and ends an interrupted command with one line on stderr (what was kept, how to
resume) and exit code 130 (SIGINT) or 143 (SIGTERM), without a traceback.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import typer

from greenopt import interrupt, progress


def interrupted_line(exc: interrupt.Interrupted) -> str:
    """The one line an interrupted command ends with."""
    kept = exc.kept or "nothing was written; rerun the command"
    return f"interrupted ({exc.signal_name}): {kept}"


class CommandLine(typer.Typer):
    """The typer app, run with SIGINT/SIGTERM turned into a clean exit (see the module)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            with interrupt.handling_signals():
                try:
                    return super().__call__(*args, **kwargs)
                except interrupt.Interrupted as exc:
                    exc.kept = exc.kept or interrupt.kept_note()  # before the note is cleared
                    raise
        except interrupt.Interrupted as exc:
            for sig in interrupt.SIGNALS:  # a second Ctrl-C must not cut the last line short
                signal.signal(sig, signal.SIG_IGN)
            progress_reporter = progress.current()
            if hasattr(progress_reporter, "finish"):
                progress_reporter.finish()
            try:
                print(interrupted_line(exc), file=sys.stderr, flush=True)
            finally:
                sys.exit(exc.exit_code)


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


def parse_floats(text: str) -> list[float]:
    """``"1,10,100"`` → ``[1.0, 10.0, 100.0]``, or a usage error."""
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}") from exc


#: ``solve``'s named options → the policy setting each sets.
SETTING_OPTIONS = {
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
        key = SETTING_OPTIONS.get(option, option)
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
