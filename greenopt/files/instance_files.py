"""Reading and writing instance folders (SPEC §2).

:func:`load_instance` checks everything before it builds anything and reports every problem at
once as :class:`InstanceError`, one message per problem: ``FILE:LINE:COLUMN: message`` (LINE
counts from the header line 1; for ``instance.toml`` it is the key's line and COLUMN the key) or
``FILE: message`` for a problem of the whole file (cells are read by
:mod:`greenopt.files.csv_tables`). Every number must lie in its range of
:data:`~greenopt.files.instance_columns.COLUMN_RANGES` (and ``DERIVED_LIMITS``), so that nothing
downstream can overflow. What is valid but implausible becomes a warning in
``Instance.warnings`` (:mod:`greenopt.plausibility`).

:func:`write_instance` writes a folder that loads back equal (times as hours from slot 0, the
start timestamp in ``instance.toml``), each file atomically.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.files.atomic import write_text_atomic
from greenopt.files.csv_tables import (
    BadValue,
    CsvTable,
    Problems,
    Row,
    check_unique,
    parse_float,
    parse_rows,
    parse_timestamp,
    read_table,
    read_text,
)
from greenopt.files.instance_columns import (
    CAPACITY_FACTOR,
    CARBON,
    DERIVED_LIMITS,
    JOB_COLUMNS,
    LINK_COLUMNS,
    PARAM_KEYS,
    PARAM_RANGES,
    SITE_COLUMNS,
    TRACE_TIME,
    Column,
)
from greenopt.instance import Instance, Job, Link, Parameters, Site
from greenopt.plausibility import check_instance

FILES = ("instance.toml", "sites.csv", "links.csv", "jobs.csv", "traces.csv")

#: Slack (h) when checking that the traces cover the horizon; the same as ``slot_means``.
COVER_EPS = 1e-9


class InstanceError(ValueError):
    """Bad input: one ``FILE:LINE:COLUMN: message`` (or ``FILE: message``) per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ---- instance.toml -------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_KEY = re.compile(r"""^\s*(?:\[\s*)?(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))""")


def _toml_key_lines(text: str) -> dict[str, int]:
    """Line of each top-level key (or table header ``[name]``) — tomllib keeps no positions."""
    lines: dict[str, int] = {}
    in_table = False
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        is_header = stripped.startswith("[")
        match = _TOML_KEY.match(stripped)
        if match and (is_header or not in_table):
            lines.setdefault(next(g for g in match.groups() if g is not None), number)
        in_table = in_table or is_header
    return lines


def _as_start(value: Any) -> datetime:
    """``start``: a TOML datetime or date, or an ISO string; UTC when naive."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        return parse_timestamp(value)
    raise BadValue(f"expected a timestamp, got {value!r}")


def _read_parameters(folder: Path, probs: Problems) -> Parameters | None:
    """Parse and check ``instance.toml``; ``None`` if anything is wrong with it."""
    file = "instance.toml"
    text = read_text(folder, file, probs)
    if text is None:
        return None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        position = _TOML_POSITION.search(message)
        if position:
            line, column = position.groups()
            probs.cell(file, int(line), int(column), message[: position.start()])
        else:
            probs.file(file, message)
        return None
    lines = _toml_key_lines(text)

    def bad(key: str, message: str) -> None:
        probs.cell(file, lines.get(key, 1), key, message)

    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in PARAM_KEYS:
            bad(
                key,
                f"unknown key (allowed: {', '.join(PARAM_KEYS)}; free keys go under [meta])",
            )
        elif key == "meta":
            if not isinstance(value, dict):
                bad(key, "[meta] must be a table")
            else:
                values[key] = value
        elif key == "start":
            try:
                values[key] = _as_start(value)
            except BadValue as err:
                bad(key, str(err))
        elif isinstance(value, bool) or not isinstance(value, int | float):
            bad(key, f"expected a number, got {value!r}")
        elif math.isnan(value):
            bad(key, "NaN is not allowed")
        elif math.isinf(value):
            bad(key, f"expected a finite number, got {value}")
        elif value not in PARAM_RANGES[key]:
            bad(key, f"must be {PARAM_RANGES[key]}, got {value}")
        else:
            values[key] = float(value)
    if "horizon_h" not in raw:
        probs.file(file, "missing required key 'horizon_h'")
    elif "horizon_h" in values and ("slot_minutes" in values or "slot_minutes" not in raw):
        slots = values["horizon_h"] * 60.0 / values.get("slot_minutes", 15.0)
        if abs(slots - round(slots)) > 1e-9 * max(1.0, slots):
            bad(
                "horizon_h",
                f"{values['horizon_h']:g} h is not a whole number of "
                f"{values.get('slot_minutes', 15.0):g}-minute slots",
            )
        elif round(slots) > DERIVED_LIMITS["max_slots"]:
            bad(
                "horizon_h",
                f"{values['horizon_h']:g} h of {values.get('slot_minutes', 15.0):g}-minute slots "
                f"is {round(slots)} slots, more than {DERIVED_LIMITS['max_slots']}",
            )
    if probs.has(file):
        return None
    return Parameters(**values)


# ---- traces.csv ----------------------------------------------------------------------------


def _trace_times(
    table: CsvTable, start: datetime | None, probs: Problems
) -> tuple[np.ndarray, datetime | None] | None:
    """Hours from slot 0 for each trace row (and slot 0's timestamp when times are ISO)."""
    time_col = table.header[0]
    cells = list(zip(table.lines, table.column(time_col), strict=True))
    numeric = True
    try:
        float(cells[0][1] or "")
    except ValueError:
        numeric = False
    parsed: list[float | datetime | None] = []
    for line, text in cells:
        try:
            if not text:
                raise BadValue("empty time")
            if numeric:
                try:
                    float(text)
                except ValueError:
                    message = f"expected hours (a number, like the first time), got {text!r}"
                    raise BadValue(message) from None
                hours = parse_float(text)
                if hours not in TRACE_TIME:
                    raise BadValue(f"must be {TRACE_TIME} (hours from slot 0), got {text}")
                parsed.append(hours)
            else:
                parsed.append(parse_timestamp(text))
        except BadValue as err:
            probs.cell(table.file, line, time_col, str(err))
            parsed.append(None)
    if any(p is None for p in parsed):
        return None
    if numeric:
        return np.array(parsed, float), start
    origin = start if start is not None else parsed[0]
    hours = np.array([(p - origin).total_seconds() / 3600.0 for p in parsed], float)
    return hours, origin


def _read_traces(
    table: CsvTable,
    params: Parameters | None,
    profiles: set[str],
    carbons: set[str],
    probs: Problems,
) -> tuple[pd.DataFrame, datetime | None] | None:
    """Check the time column and the named trace columns; the traces indexed by hours."""
    file = table.file
    if not table.rows:
        probs.file(file, "no rows")
        return None
    start = params.start if params is not None else None
    times = _trace_times(table, start, probs)
    if times is not None:
        hours, origin = times
        lines = table.lines
        for i in range(1, len(hours)):
            if not hours[i] > hours[i - 1]:
                probs.cell(
                    file,
                    lines[i],
                    table.header[0],
                    f"times must strictly increase ({hours[i]:g} h after {hours[i - 1]:g} h on "
                    f"line {lines[i - 1]})",
                )
                times = None
    columns = [c for c in dict.fromkeys(table.header[1:]) if c in profiles | carbons]
    data = {}
    for name in columns:
        cells = table.column(name)
        try:  # fast path: every cell a number in range
            values = np.array(cells, dtype=float)
            ranges = [
                r for r, names in ((CAPACITY_FACTOR, profiles), (CARBON, carbons)) if name in names
            ]
            if all(((values >= r.low) & (values <= r.high)).all() for r in ranges):
                data[name] = values
                continue
        except (TypeError, ValueError):
            pass
        values = np.zeros(len(table.rows))
        for i, (line, text) in enumerate(zip(table.lines, cells, strict=True)):
            try:
                if text is None:  # short row, already reported
                    continue
                if text == "":
                    raise BadValue("empty cell in a trace column a site names")
                values[i] = parse_float(text)
                if name in profiles and values[i] not in CAPACITY_FACTOR:
                    raise BadValue(f"capacity factor must be {CAPACITY_FACTOR}, got {text}")
                if name in carbons and values[i] not in CARBON:
                    raise BadValue(f"carbon intensity must be {CARBON}, got {text}")
            except BadValue as err:
                probs.cell(file, line, name, str(err))
        data[name] = values
    if times is None or params is None:
        return None
    last_len = hours[-1] - hours[-2] if len(hours) > 1 else params.dt_h
    end = hours[-1] + last_len
    if hours[0] > COVER_EPS or end < params.horizon_h - COVER_EPS:
        probs.file(
            file,
            f"times cover [{hours[0]:g}, {end:g}) h, not the horizon [0, {params.horizon_h:g}) h"
            " (each value holds until the next time, the last one for the spacing before it)",
        )
        return None
    frame = pd.DataFrame(data, index=pd.Index(hours, name="time_h"), columns=columns)
    return frame, origin


# ---- the whole folder ----------------------------------------------------------------------


def load_instance(folder: str | Path) -> Instance:
    """Load and validate an instance folder (SPEC §2); its name is the folder's name.

    Raises :class:`InstanceError` listing every problem found; nothing is half-loaded. What is
    valid but implausible (:func:`greenopt.plausibility.check_instance`) is in
    ``Instance.warnings``, located by the lines read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InstanceError([f"{folder}: not a folder"])
    probs = Problems(FILES)
    params = _read_parameters(folder, probs)
    tables = {f: read_table(folder, f, probs) for f in FILES[1:]}

    # traces header: which columns exist (needed to check what sites name)
    traces_table = tables["traces.csv"]
    trace_columns: set[str] | None = None
    if traces_table is not None:
        time_col = traces_table.header[0]
        if time_col != "time":
            probs.cell("traces.csv", 1, time_col, "the first column must be 'time'")
        trace_columns = set(traces_table.header[1:]) - {""}
        for i, name in enumerate(traces_table.header):
            if name == "":
                probs.cell("traces.csv", 1, i + 1, "empty column name")

    # sites
    site_rows: list[Row] = []
    if tables["sites.csv"] is not None:
        site_rows = parse_rows(tables["sites.csv"], SITE_COLUMNS, probs)
        if not site_rows:
            probs.file("sites.csv", "no sites")
        check_unique(site_rows, "site_id", "sites.csv", probs)
        for row in site_rows:
            for key in ("profile", "carbon"):
                name = row.values.get(key)
                if name is None or trace_columns is None or name in trace_columns:
                    continue
                if name == traces_table.header[0]:
                    message = f"{name!r} is the time column of traces.csv"
                else:
                    message = f"{name!r} is not a column of traces.csv"
                probs.cell("sites.csv", row.line, key, message)
                row.values[key] = None  # not a trace column: leave it out of the trace checks
    site_ids = {r.values["site_id"] for r in site_rows if r.values.get("site_id") is not None}
    sites_known = tables["sites.csv"] is not None and "site_id" in tables["sites.csv"].header

    # links
    link_rows: list[Row] = []
    if tables["links.csv"] is not None:
        link_rows = parse_rows(tables["links.csv"], LINK_COLUMNS, probs)
        pairs: dict[frozenset[str], int] = {}
        for row in link_rows:
            ends = [row.values.get("a"), row.values.get("b")]
            for key, site in zip(("a", "b"), ends, strict=True):
                if sites_known and site is not None and site not in site_ids:
                    probs.cell("links.csv", row.line, key, f"unknown site {site!r}")
            if None in ends:
                continue
            a, b = ends
            if a == b:
                probs.cell("links.csv", row.line, "b", f"link from {a!r} to itself")
            elif frozenset(ends) in pairs:
                probs.cell(
                    "links.csv",
                    row.line,
                    "b",
                    f"second link between {a!r} and {b!r} (first on line {pairs[frozenset(ends)]})",
                )
            else:
                pairs[frozenset(ends)] = row.line

    # jobs
    job_rows: list[Row] = []
    if tables["jobs.csv"] is not None:
        job_rows = parse_rows(tables["jobs.csv"], JOB_COLUMNS, probs)
        check_unique(job_rows, "job_id", "jobs.csv", probs)
        for row in job_rows:
            v = row.values
            origin = v.get("origin")
            if sites_known and origin is not None and origin not in site_ids:
                probs.cell("jobs.csv", row.line, "origin", f"unknown site {origin!r}")
            arrival = v.get("arrival_h")
            if arrival is not None and params is not None and arrival >= params.horizon_h:
                probs.cell(
                    "jobs.csv",
                    row.line,
                    "arrival_h",
                    f"must be < horizon_h = {params.horizon_h:g}, got {arrival:g}",
                )
            gpus, power = v.get("gpus"), v.get("power_kw")
            limit = DERIVED_LIMITS["max_kw_per_gpu"]
            if gpus is not None and power is not None and power > limit * gpus:
                probs.cell(
                    "jobs.csv",
                    row.line,
                    "power_kw",
                    f"{power:g} kW for {gpus} GPU(s) is more than {limit:g} kW per GPU",
                )
            deadline = v.get("deadline_h")
            if deadline is not None and arrival is not None and not deadline > arrival:
                probs.cell(
                    "jobs.csv",
                    row.line,
                    "deadline_h",
                    f"must be > arrival_h = {arrival:g}, got {deadline:g}",
                )

    # traces
    traces = None
    if traces_table is not None:
        profiles = {r.values["profile"] for r in site_rows if r.values.get("profile")}
        carbons = {r.values["carbon"] for r in site_rows if r.values.get("carbon")}
        traces = _read_traces(traces_table, params, profiles, carbons, probs)

    problems = probs.all()
    if problems or params is None or traces is None:
        raise InstanceError(problems or ["instance: incomplete (no details)"])
    frame, origin = traces
    if params.start is None and origin is not None:
        params = Parameters(**{**params.__dict__, "start": origin})
    instance = Instance(
        params=params,
        sites=tuple(Site(**r.values) for r in site_rows),
        links=tuple(Link(**r.values) for r in link_rows),
        jobs=tuple(Job(**r.values) for r in job_rows),
        traces=frame,
        name=folder.name,
    )
    lines = {
        "sites.csv": [r.line for r in site_rows],
        "jobs.csv": [r.line for r in job_rows],
        "traces.csv": traces_table.lines,
    }
    warnings = tuple(check_instance(instance, lines))
    if warnings:
        instance = dataclasses.replace(instance, warnings=warnings)
    try:  # derive the slot arrays now, so nothing fails later
        instance.renewable_kw  # noqa: B018
        instance.carbon  # noqa: B018
    except ValueError as err:  # pragma: no cover - the checks above should prevent it
        raise InstanceError([f"traces.csv: {err}"]) from err
    return instance


# ---- writing -------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """CSV text of a value that reads back equal: floats in shortest round-trip form."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _csv_text(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return out.getvalue()


def _records_csv(records: tuple, columns: tuple[Column, ...]) -> str:
    """One row per dataclass record; optional columns that are empty throughout are left out."""
    names = [
        c.name
        for c in columns
        if c.default is not None or any(getattr(r, c.name) is not None for r in records)
    ]
    return _csv_text(names, [[getattr(r, n) for n in names] for r in records])


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def write_instance(instance: Instance, folder: str | Path) -> Path:
    """Write ``instance`` as a SPEC §2 folder that :func:`load_instance` reads back equal.

    Trace times are written as hours from slot 0 (``start``, if any, goes to ``instance.toml``);
    each file is written to a temporary file and renamed into place. Returns the folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    p = instance.params
    lines = [f"{key} = {_cell(float(getattr(p, key)))}" for key in PARAM_RANGES]
    if p.start is not None:
        lines.append(f"start = {_toml_value(p.start)}")
    if p.meta:
        lines.append("\n[meta]")
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in p.meta.items()]
    write_text_atomic("\n".join(lines) + "\n", folder / "instance.toml")
    write_text_atomic(_records_csv(instance.sites, SITE_COLUMNS), folder / "sites.csv")
    write_text_atomic(_records_csv(instance.links, LINK_COLUMNS), folder / "links.csv")
    write_text_atomic(_records_csv(instance.jobs, JOB_COLUMNS), folder / "jobs.csv")
    traces = instance.traces
    if "time" in traces.columns:
        raise ValueError("a trace column may not be called 'time'")
    # pandas writes floats in their shortest round-trip form
    text = traces.astype(float).rename_axis("time").to_csv(lineterminator="\n")
    write_text_atomic(text, folder / "traces.csv")
    return folder
