"""Compare two builds of the report (``greenopt paper --out A`` and ``--out B``), ignoring what is
measured on the machine (dates, wall and run times, load averages, the commit, host and pid) and
the output folder named in the command.

    python paper/diff_builds.py A B

Compares ``README.md`` line by line (after masking those values), every ``tables/*.csv`` as text
(after dropping the timing columns) and every ``figures/*.png`` byte for byte. Prints each
difference and exits with 1 if there is any, 0 if the builds agree.
"""

from __future__ import annotations

import difflib
import io
import re
import sys
from pathlib import Path

import pandas as pd

#: Result columns that measure the run rather than the schedule.
TIMING_COLUMNS = {
    "wall_s", "setup_s", "run_s", "point_s", "solve_s", "build_s", "summed_run_s",
    "started_at", "host", "pid", "info.sets_s", "info.model_s", "info.handoff_s",
    "info.warm_start_s",
}  # fmt: skip

#: (pattern, replacement) applied to every report line before comparing.
MASKS = (
    (re.compile(r"^\| date \(UTC\) \|.*"), "| date (UTC) | * |"),
    (re.compile(r"load average [\d.]+ at the start, [\d.]+ at the end"), "load average *"),
    (re.compile(r"\(commit .*\) \|$"), "(commit *) |"),
    (re.compile(r"^\| wall time of the build \|.*"), "| wall time of the build | * |"),
    (re.compile(r"this one took [\d.]+ min \(\w+ that bound\)"), "this one took *"),
    (re.compile(r"--out \S+`"), "--out *`"),
    (re.compile(r"\| \d+ s \| \d+ s \|$"), "| * s | * s |"),
)


def masked_report(folder: Path) -> list[str]:
    lines = (folder / "README.md").read_text(encoding="utf-8").splitlines()
    for pattern, replacement in MASKS:
        lines = [pattern.sub(replacement, line) for line in lines]
    return lines


def table_text(path: Path) -> str:
    frame = pd.read_csv(path)
    frame = frame.drop(columns=[c for c in frame.columns if c in TIMING_COLUMNS])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def compare(a: Path, b: Path) -> list[str]:
    """Every difference between builds ``a`` and ``b`` (empty when they agree)."""
    problems = [
        line
        for line in difflib.unified_diff(
            masked_report(a), masked_report(b), f"{a}/README.md", f"{b}/README.md", lineterm=""
        )
    ]
    for sub, pattern in (("tables", "*.csv"), ("figures", "*.png")):
        names_a = {p.name for p in (a / sub).glob(pattern)}
        names_b = {p.name for p in (b / sub).glob(pattern)}
        for name in sorted(names_a ^ names_b):
            problems.append(f"{sub}/{name}: only in {a if name in names_a else b}")
        for name in sorted(names_a & names_b):
            pa, pb = a / sub / name, b / sub / name
            if sub == "tables":
                diff = list(
                    difflib.unified_diff(
                        table_text(pa).splitlines(),
                        table_text(pb).splitlines(),
                        str(pa),
                        str(pb),
                        lineterm="",
                        n=0,
                    )  # fmt: skip
                )
                problems.extend(diff)
            elif pa.read_bytes() != pb.read_bytes():
                problems.append(f"{sub}/{name}: the images differ")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = Path(argv[0]), Path(argv[1])
    problems = compare(a, b)
    for line in problems:
        print(line)
    n_tables = len(list((a / "tables").glob("*.csv")))
    n_figures = len(list((a / "figures").glob("*.png")))
    verdict = "differ" if problems else "agree"
    print(f"{a} and {b} {verdict}: README.md, {n_tables} tables, {n_figures} figures compared")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
