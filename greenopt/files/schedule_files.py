"""Schedule files (SPEC §4): ``assignment.csv`` and ``migrations.csv`` read with located errors
(:func:`read_schedule`) and written atomically (:func:`write_schedule`)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.files.atomic import write_csv_atomic
from greenopt.files.csv_tables import csv_records, parse_float
from greenopt.schedule import ASSIGNMENT_COLUMNS, MIGRATION_COLUMNS, Schedule


class ScheduleReadError(ValueError):
    """Unreadable schedule: one ``FILE: message`` per problem (CLI exit code 2)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


#: Columns of each schedule file read as numbers (the others are text).
NUMERIC_COLUMNS = {
    "assignment.csv": ("slot", "run_fraction"),
    "migrations.csv": ("depart_slot", "transfer_s", "arrive_slot"),
}
#: Text columns that may be empty (``site``: in transit).
OPTIONAL_COLUMNS = {"site"}


def _read_schedule_file(
    path: Path, columns: list[str], problems: list[str]
) -> tuple[pd.DataFrame, list[int]] | None:
    """One schedule file as a frame of ``columns`` (numbers converted) and each row's line; every
    unreadable cell is reported as ``PATH:LINE:COLUMN: message``."""
    if not path.is_file():
        problems.append(f"{path}: missing file")
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return None
    try:
        records = csv_records(text)
    except csv.Error as exc:
        problems.append(f"{path}: {exc}")
        return None
    if not records:
        problems.append(f"{path}: empty file (no header)")
        return None
    header = records[0][1]
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(f"{path}: missing column(s) {', '.join(missing)}")
        return None
    numeric = set(NUMERIC_COLUMNS[path.name])
    found = len(problems)
    lines, rows = [], []
    for line, cells in records[1:]:
        if len(cells) != len(header):
            more = len(cells) - len(header)
            problems.append(
                f"{path}:{line}:{len(header) + 1}: {more} field(s) more than the header"
                if more > 0
                else f"{path}:{line}:{header[len(cells)]}: missing field (row has {len(cells)} "
                f"fields, header has {len(header)})"
            )
            continue
        lines.append(line)
        rows.append(cells)
    cells_by_column = list(zip(*rows, strict=True)) or [() for _ in header]
    data: dict[str, Any] = {}
    for col in columns:
        cells = cells_by_column[header.index(col)]
        if col in numeric:
            try:  # fast path: every cell a finite number
                values = np.array(cells, dtype=float)
                if np.isfinite(values).all():
                    data[col] = values
                    continue
            except ValueError:
                pass
            for line, cell in zip(lines, cells, strict=True):
                try:
                    parse_float(cell) if cell else None
                except ValueError as exc:
                    problems.append(f"{path}:{line}:{col}: {exc}")
                else:
                    if not cell:
                        problems.append(f"{path}:{line}:{col}: empty cell")
        else:
            if col not in OPTIONAL_COLUMNS:
                problems += [
                    f"{path}:{line}:{col}: empty cell"
                    for line, cell in zip(lines, cells, strict=True)
                    if not cell
                ]
            data[col] = pd.Series([cell or None for cell in cells], dtype=object)
    if len(problems) > found:
        return None
    return pd.DataFrame(data, columns=columns), lines


def read_schedule(folder: str | Path) -> Schedule:
    """Read ``assignment.csv`` and ``migrations.csv`` from ``folder``.

    Ids and sites are read as text (an empty site cell is ``None``: in transit), the other columns
    as finite numbers; each row's line is kept for located messages (``Schedule.lines``). A
    missing or malformed file, a missing column, a short or long row, an empty required cell or a
    cell that is not a number raises :class:`ScheduleReadError` listing every problem.
    """
    folder = Path(folder)
    problems: list[str] = []
    read = {
        name: _read_schedule_file(folder / name, columns, problems)
        for name, columns in (
            ("assignment.csv", ASSIGNMENT_COLUMNS),
            ("migrations.csv", MIGRATION_COLUMNS),
        )
    }
    if problems:
        raise ScheduleReadError(problems)
    (assignment, a_lines), (migrations, m_lines) = read["assignment.csv"], read["migrations.csv"]
    return Schedule(
        assignment, migrations, lines={"assignment.csv": a_lines, "migrations.csv": m_lines}
    )


def write_schedule(schedule: Schedule, folder: str | Path) -> None:
    """Write ``assignment.csv`` and ``migrations.csv`` atomically into ``folder`` (an empty site
    cell: in transit)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    assignment = schedule.assignment[ASSIGNMENT_COLUMNS].copy()
    assignment["site"] = assignment["site"].where(assignment["site"].notna(), "")
    write_csv_atomic(assignment, folder / "assignment.csv")
    write_csv_atomic(schedule.migrations[MIGRATION_COLUMNS], folder / "migrations.csv")
