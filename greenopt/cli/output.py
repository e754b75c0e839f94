"""What the command line prints on stdout: rich tables of metrics, violations and comparisons, and
one-line notes on how a solver ended. The core packages never print; the verbs call these."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from greenopt.simulation import SimulationResult


def wide_console() -> Console:
    """A rich console; off a terminal (logs, CI) it is wide enough for the metrics tables."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def frame_table(frame: pd.DataFrame, formats: dict[str, str]) -> Table:
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


def print_comparison(console: Console, table: pd.DataFrame) -> None:
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
