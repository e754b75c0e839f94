"""What the command line prints about a simulated schedule (rich tables or JSON). The core
packages never print; the CLI calls these."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from greenopt.files.schedule_files import ScheduleReadError, read_schedule
from greenopt.instance import Instance
from greenopt.simulation import SimulationResult, simulate


def evaluate_schedule(instance: Instance, schedule_dir: str | Path, as_json: bool = False) -> int:
    """Read the schedule in ``schedule_dir``, simulate it and print the violations and metrics
    (rich tables, or JSON). Returns the exit code: 0 valid, 1 invalid, 2 unreadable."""
    try:
        schedule = read_schedule(schedule_dir)
    except ScheduleReadError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    result = simulate(instance, schedule)
    if as_json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        print_result(result)
    return 0 if result.valid else 1


def print_result(result: SimulationResult) -> None:
    """Violations (job, slot, rule, message) and the metrics, as rich tables."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if result.violations:
        table = Table(title=f"{len(result.violations)} violation(s)")
        for col in ("job", "slot", "rule", "message"):
            table.add_column(col)
        for v in result.violations:
            table.add_row(
                v.job_id or "-", "-" if v.slot is None else str(v.slot), v.rule, v.message
            )
        console.print(table)
        console.print("[red]schedule INVALID[/]")
        return
    table = Table(title="metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in (result.metrics or {}).items():
        table.add_row(name, f"{value:.6g}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print("[green]schedule valid[/]")
