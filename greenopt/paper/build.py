"""``greenopt paper``: run the experiments, compute every section and write the report.

The report is ``OUT/README.md`` (from ``template.md``, a :class:`string.Template` whose
``${name}`` placeholders are all filled by the sections — a missing or an unused value is an
error), ``OUT/figures/*.png`` and ``OUT/tables/*.csv``. Everything is produced in
``OUT/.stage`` first and moved into place only when the whole build succeeded; sweep results are
kept in ``OUT/.work/<size>`` (deleted at the start of a build unless ``resume``).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import TextIO

import pandas as pd

from greenopt.evaluation import instance_table, render_table
from greenopt.files import write_text_atomic
from greenopt.paper.experiments import EXPERIMENTS, ExperimentRun, Size, run_experiments
from greenopt.paper.report import FIGURES, TABLES, Context, fmt, md_table
from greenopt.paper.sections import SECTIONS
from greenopt.sweep.results import STATUSES

REPORT = "README.md"
#: Time the build is designed to stay within on 2 cores (s), per size.
TIME_BUDGET_S = {"full": 20 * 60, "quick": 60}


class TemplateError(ValueError):
    """The template and the computed values do not match."""


def template_text() -> str:
    return (files("greenopt.paper") / "template.md").read_text(encoding="utf-8")


def fill(template: str, values: dict[str, str]) -> str:
    """Substitute every ``${name}``; raises :class:`TemplateError` naming the placeholders without
    a value and the values without a placeholder."""
    tpl = Template(template)
    if not tpl.is_valid():
        raise TemplateError("the template has an invalid placeholder")
    wanted = set(tpl.get_identifiers())
    missing, unused = sorted(wanted - set(values)), sorted(set(values) - wanted)
    if missing or unused:
        raise TemplateError(f"placeholders without a value: {missing}; values unused: {unused}")
    return tpl.substitute(values)


LINK = re.compile(r"\]\(((?:" + FIGURES + "|" + TABLES + r")/[^)\s]+)\)")
LEFTOVER = re.compile(r"\$\{?[A-Za-z_]")
MISSING_NUMBER = re.compile(r"\b(nan|NaN|n/a|None)\b")


def check_report(folder: Path, name: str = REPORT) -> list[str]:
    """Problems of a built report: a referenced figure or table that does not exist, a figure
    not referenced, a placeholder left, a value that is NaN / n/a / None."""
    folder = Path(folder)
    path = folder / name
    if not path.is_file():
        return [f"{path}: no report"]
    text = path.read_text(encoding="utf-8")
    problems = []
    links = set(LINK.findall(text))
    for rel in sorted(links):
        if not (folder / rel).is_file():
            problems.append(f"{name}: references {rel}, which does not exist")
    for fig in sorted((folder / FIGURES).glob("*.png")):
        if f"{FIGURES}/{fig.name}" not in links:
            problems.append(f"{FIGURES}/{fig.name} is not shown in {name}")
    for i, line in enumerate(text.splitlines(), start=1):
        if LEFTOVER.search(line):
            problems.append(f"{name}:{i}: unfilled placeholder: {line.strip()[:80]}")
        if MISSING_NUMBER.search(line):
            problems.append(f"{name}:{i}: missing number: {line.strip()[:80]}")
    return problems


@dataclass
class BuildResult:
    report: Path
    wall_s: float
    figures: list[str]
    tables: list[str]
    problems: list[str]


def build_paper(
    out: str | Path,
    size: Size = "full",
    *,
    workers: int | None = None,
    resume: bool = False,
    experiments: Path | None = None,
    command: str | None = None,
    stream: TextIO | None = None,
) -> BuildResult:
    """Run every experiment at ``size`` and write the report into ``out`` (see the module
    docstring). Raises if a placeholder stays unfilled or a referenced file is missing."""
    t0 = time.perf_counter()
    stream = stream or sys.stderr
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    load_start = _load()
    print(f"[paper] size {size}: running {len(EXPERIMENTS)} experiments", file=stream, flush=True)
    runs = run_experiments(
        size, out / ".work" / size, workers=workers, resume=resume, folder=experiments,
        stream=stream,
    )  # fmt: skip
    stage = out / ".stage"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    ctx = Context(stage, size, runs)
    values: dict[str, str] = {}
    for section in SECTIONS:
        t = time.perf_counter()
        new = section(ctx)
        clash = set(new) & set(values)
        if clash:
            raise TemplateError(f"{section.__name__} sets values already set: {sorted(clash)}")
        values |= new
        print(f"[paper] {section.__name__}: {time.perf_counter() - t:.1f} s", file=stream)
    # the evaluation set (greenopt.evaluation): its table is published with the others
    (stage / TABLES).mkdir(exist_ok=True)
    write_text_atomic(render_table(instance_table()), stage / TABLES / "instances.csv")
    wall = time.perf_counter() - t0
    values |= provenance(
        ctx, size, wall, load_start, command or f"greenopt paper --out {out}", resume
    )
    text = fill(template_text(), values)
    write_text_atomic(text, stage / REPORT)
    problems = check_report(stage)
    if problems:
        raise TemplateError("the report is incomplete:\n" + "\n".join(problems))
    publish(stage, out)
    print(f"[paper] wrote {out / REPORT} in {wall:.0f} s", file=stream, flush=True)
    return BuildResult(out / REPORT, wall, ctx.figures, ctx.tables, problems)


def publish(stage: Path, out: Path) -> None:
    """Move the staged figures, tables and report into ``out`` (replacing older ones)."""
    for sub in (FIGURES, TABLES):
        target = out / sub
        if target.exists():
            shutil.rmtree(target)
        os.replace(stage / sub, target)
    os.replace(stage / REPORT, out / REPORT)
    shutil.rmtree(stage)


# ---- provenance -----------------------------------------------------------------------------


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover - not on every platform
        return None


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def checkout_root() -> Path | None:
    """The git checkout whose ``greenopt/`` folder this package is imported from (a source or
    editable install); None for an installed package, even one in a virtual environment inside
    some checkout."""
    package = Path(str(files("greenopt"))).resolve()
    top = _git(package, "rev-parse", "--show-toplevel")
    if not top or (Path(top) / "greenopt").resolve() != package:
        return None
    return Path(top)


def code_version() -> str:
    """``<commit>``, with the number of tracked files changed since, from git (if available)."""
    root = checkout_root()
    commit = _git(root, "rev-parse", "--short=10", "HEAD") if root else None
    if not commit:
        return "unknown (not a git checkout)"
    changed = _git(root, "status", "--porcelain", "--untracked-files=no") or ""
    n = len([line for line in changed.splitlines() if line.strip()])
    return commit + (f", with {n} tracked files changed since" if n else "")


def provenance(
    ctx: Context,
    size: str,
    wall_s: float,
    load_start: float | None,
    command: str,
    resumed: bool = False,
) -> dict[str, str]:
    import greenopt

    load_end = _load()
    loads = (
        f"; load average {fmt(load_start)} at the start, {fmt(load_end)} at the end "
        "(other jobs shared the machine)"
        if load_start is not None and load_end is not None
        else ""
    )
    budget = TIME_BUDGET_S[size]
    within = "within" if wall_s <= budget else "over"
    rows = []
    for key, run in ctx.runs.items():
        rows.append(experiment_row(key, run))
    ctx.table(pd.DataFrame([r[1] for r in rows]), "experiments")
    return {
        "command": command,
        "size": size,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}{loads}",
        "version": greenopt.__version__,
        "commit": code_version(),
        "build_wall": f"{wall_s / 60:.1f} min ({wall_s:.0f} s)",
        "budget_text": (
            f"The {size} build is designed to finish within {fmt(budget / 60)} min on 2 cores; "
            f"this one took {wall_s / 60:.1f} min ({within} that bound)"
            + (
                ", but it resumed an earlier build (finished runs were reused), so its wall time "
                "does not measure a build from scratch. "
                if resumed
                else ". "
            )
            + "Solver budgets per "
            "experiment are in the sweep files (MILP time limits, rolling-horizon limits per "
            "step); the sweeps ran on an embedded Dask cluster of one worker process per core "
            "(size full) or in this process (size quick)."
        ),
        "experiments_rows": "\n".join(r[0] for r in rows),
    }


def experiment_row(key: str, run: ExperimentRun) -> tuple[str, dict]:
    """(Markdown row, CSV row) of an experiment: runs by status, wall time, summed run time."""
    table = run.table
    distinct = table.drop_duplicates("key") if "key" in table else table
    summed = float(pd.to_numeric(distinct.get("point_s"), errors="coerce").sum())
    limit = run.sweep.file.policy.settings.get("time_limit_s")
    csv = {
        "experiment": key,
        "file": EXPERIMENTS[key],
        "points": len(table),
        "runs": len(distinct),
        **{status: int((distinct["status"] == status).sum()) for status in STATUSES},
        "wall_s": run.wall_s,
        "summed_run_s": summed,
        "time_limit_s": limit,
    }
    limit_text = f"{fmt(limit)} s" if limit else "–"
    cells = [
        f"`{EXPERIMENTS[key]}` (solver limit {limit_text})",
        str(len(distinct)),
        *(str(csv[s]) for s in STATUSES),
        f"{run.wall_s:.0f} s",
        f"{summed:.0f} s",
    ]
    md = "| " + " | ".join(cells) + " |"
    return md, csv


__all__ = ["build_paper", "check_report", "fill", "md_table"]
