"""Reading and writing instance folders (SPEC §2).

:func:`load_instance` checks everything before it builds anything and reports every problem at
once as :class:`InstanceError`, one message per problem: ``FILE:LINE:COLUMN: message`` (LINE
counts from the header line 1; for ``instance.toml`` it is the key's line and COLUMN the key) or
``FILE: message`` for a problem of the whole file. Cells are read as text with :mod:`csv`, which
tracks line numbers through quoted fields spanning lines; surrounding blanks are stripped. Every
number must lie in its range of :data:`COLUMN_RANGES` (and :data:`DERIVED_LIMITS`), so that nothing
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.instance import Instance, Job, Link, Parameters, Site
from greenopt.plausibility import check_instance
from greenopt.schedule import write_text_atomic

FILES = ("instance.toml", "sites.csv", "links.csv", "jobs.csv", "traces.csv")

#: Slack (h) when checking that the traces cover the horizon; the same as ``slot_means``.
COVER_EPS = 1e-9


class InstanceError(ValueError):
    """Bad input: one ``FILE:LINE:COLUMN: message`` (or ``FILE: message``) per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Bad(ValueError):
    """A cell or value that cannot be accepted; the message says why."""


class _Problems:
    """Problems per file, reported in the order of :data:`FILES`, then by line."""

    def __init__(self) -> None:
        self._by_file: dict[str, list[tuple[int, str]]] = {f: [] for f in FILES}

    def file(self, file: str, message: str) -> None:
        self._by_file[file].append((0, f"{file}: {message}"))

    def cell(self, file: str, line: int, column: str | int, message: str) -> None:
        self._by_file[file].append((line, f"{file}:{line}:{column}: {message}"))

    def has(self, file: str) -> bool:
        return bool(self._by_file[file])

    def all(self) -> list[str]:
        """Every problem: file by file, whole-file ones first, then by line (stable)."""
        return [p for f in FILES for _, p in sorted(self._by_file[f], key=lambda lp: lp[0])]


# ---- values --------------------------------------------------------------------------------


def _parse_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Bad(f"expected a number, got {text!r}") from None
    if math.isnan(value):
        raise _Bad("NaN is not allowed")
    if math.isinf(value):
        raise _Bad(f"expected a finite number, got {text!r}")
    return value


def _parse_int(text: str) -> int:
    value = _parse_float(text)
    if value != int(value):
        raise _Bad(f"expected an integer, got {text!r}")
    return int(value)


_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise _Bad(f"expected a boolean (true/false, yes/no, 1/0), got {text!r}")


def _parse_str(text: str) -> str:
    return text


def _parse_timestamp(text: str) -> datetime:
    """ISO-8601 timestamp; UTC when it has no offset."""
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(f"expected an ISO-8601 timestamp, got {text!r}") from None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Range:
    """An interval a value must lie in (``in [1, 3]``, ``in (0, 1]``, ``>= 0``), with its unit and
    the reason for its bounds (both shown in the documentation, see :func:`ranges_markdown`)."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    unit: str = ""
    why: str = ""

    def __contains__(self, v: float) -> bool:
        above = v > self.low if self.low_open else v >= self.low
        below = v < self.high if self.high_open else v <= self.high
        return above and below

    def __str__(self) -> str:
        if self.high == math.inf:
            return f"{'>' if self.low_open else '>='} {_number(self.low)}"
        return (
            f"in {'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}"
            f"{')' if self.high_open else ']'}"
        )


def _number(value: float) -> str:
    """A bound or value as written by a person: 1000000, 0.001, 1e+300."""
    return f"{value:.15g}"


#: The physically meaningful range of every number of an instance folder, by file and column
#: (``instance.toml``: by key). Generous but finite, so that no value can overflow the arithmetic
#: (the longest possible transfer, :func:`longest_transfer_s`, is some 10^9 one-minute slots).
#: In ``traces.csv`` the columns are named by a site's ``profile`` or ``carbon``. Checked by
#: :func:`load_instance`; :func:`ranges_markdown` renders this table for the documentation.
COLUMN_RANGES: dict[str, dict[str, Range]] = {
    "instance.toml": {
        "slot_minutes": Range(1, 1440, unit="min", why="a minute to a day"),
        "horizon_h": Range(0, 87_600, low_open=True, unit="h", why="up to ten years"),
        "alpha": Range(0, 1, low_open=True, why="share of a window a transfer may take"),
        "checkpoint_overhead_s": Range(0, 86_400, unit="s", why="save + restore within a day"),
        "link_efficiency": Range(
            0.01, 1, why="a link carrying under 1 % of its nominal bandwidth is no link"
        ),
        "network_kwh_per_gb": Range(0, 10, unit="kWh/GB", why="published estimates: 0.002–0.06"),
        "transfer_endpoint_kw": Range(0, 1000, unit="kW", why="two endpoint servers draw ~1 kW"),
        "slowdown_weight": Range(
            0, 1e6, unit="kWh", why="1 GWh per unit of slowdown outweighs any energy"
        ),
    },
    "sites.csv": {
        "gpus": Range(0, 1e6, unit="GPUs", why="the largest clusters hold ~10^5"),
        "pue": Range(1, 3, why="1 is ideal; surveyed data centres average ~1.6"),
        "idle_kw": Range(0, 1e6, unit="kW", why="up to 1 GW of base load"),
        "renewable_kw": Range(0, 1e6, unit="kW", why="up to 1 GW installed"),
        "lat": Range(-90, 90, unit="°", why="latitude"),
        "lon": Range(-180, 180, unit="°", why="longitude"),
    },
    "links.csv": {
        "bandwidth_gbps": Range(0.001, 1e4, unit="Gbps", why="1 Mbps to 10 Tbps"),
        "latency_ms": Range(0, 1e4, unit="ms", why="a geostationary hop is ~600 ms"),
    },
    "jobs.csv": {
        "gpus": Range(1, 1e6, unit="GPUs", why="at most the largest cluster"),
        "power_kw": Range(0.001, 1e5, unit="kW", why="1 W to 100 MW (a 10^5-GPU training run)"),
        "work_h": Range(0.001, 1e5, unit="h", why="3.6 s to some eleven years"),
        "checkpoint_gb": Range(
            0, 1e5, low_open=True, unit="GB", why="~15× a 405B-parameter model with optimizer state"
        ),
        "arrival_h": Range(0, unit="h", why="and < horizon_h"),
        "deadline_h": Range(
            0, 1e6, low_open=True, unit="h", why="and > arrival_h; may pass the horizon"
        ),
    },
    "traces.csv": {
        "time": Range(-1e6, 1e6, unit="h", why="numeric times (hours from slot 0): ±114 years"),
        "<profile>": Range(0, 1, why="a capacity factor"),
        "<carbon>": Range(0, 1e4, unit="gCO2/kWh", why="coal is ~1000"),
    },
}

#: Limits on quantities derived from several columns (checked by :func:`load_instance`).
#: ``max_slots``: horizon_h · 60 / slot_minutes; ``max_kw_per_gpu``: a job's power_kw / gpus.
DERIVED_LIMITS = {"max_slots": 1_000_000, "max_kw_per_gpu": 10.0}


def longest_transfer_s() -> float:
    """The longest T_mig (s) any valid instance allows: the largest checkpoint over the slowest,
    least efficient link with the largest overhead and latency (SPEC §3)."""
    toml, jobs, links = (COLUMN_RANGES[f] for f in ("instance.toml", "jobs.csv", "links.csv"))
    return (
        toml["checkpoint_overhead_s"].high
        + 8
        * jobs["checkpoint_gb"].high
        / (links["bandwidth_gbps"].low * toml["link_efficiency"].low)
        + links["latency_ms"].high / 1000
    )


def ranges_markdown() -> str:
    """:data:`COLUMN_RANGES` and :data:`DERIVED_LIMITS` as a Markdown table (README, docs)."""
    lines = ["| file | column | range | unit | why |", "|---|---|---|---|---|"]
    for file, columns in COLUMN_RANGES.items():
        for name, rng in columns.items():
            lines.append(f"| {file} | `{name}` | {rng} | {rng.unit} | {rng.why} |")
    lines.append(
        f"| instance.toml | horizon_h · 60 / slot_minutes | ≤ {DERIVED_LIMITS['max_slots']} "
        "| slots | bounds every array over slots |"
    )
    lines.append(
        f"| jobs.csv | power_kw / gpus | ≤ {_number(DERIVED_LIMITS['max_kw_per_gpu'])} "
        "| kW | a GPU with its share of the server draws about 1–2 kW |"
    )
    return "\n".join(lines) + "\n"


_REQUIRED = object()


@dataclass(frozen=True)
class _Column:
    """A CSV column: its parser, range, and what an absent value means.

    ``default`` is ``_REQUIRED`` (column and cell must be present), ``None`` (optional: empty means
    absent) or the value an empty cell or a left-out column takes.
    """

    name: str
    parse: Callable[[str], Any]
    check: Range | None = None
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


def _col(file: str, name: str, parse: Callable[[str], Any], default: Any = _REQUIRED) -> _Column:
    """A column whose range is the one of :data:`COLUMN_RANGES` (if any)."""
    return _Column(name, parse, COLUMN_RANGES[file].get(name), default)


SITE_COLUMNS = (
    _col("sites.csv", "site_id", _parse_str),
    _col("sites.csv", "gpus", _parse_int),
    _col("sites.csv", "pue", _parse_float, 1.2),
    _col("sites.csv", "idle_kw", _parse_float, 0.0),
    _col("sites.csv", "renewable_kw", _parse_float),
    _col("sites.csv", "profile", _parse_str),
    _col("sites.csv", "carbon", _parse_str, None),
    _col("sites.csv", "lat", _parse_float, None),
    _col("sites.csv", "lon", _parse_float, None),
)
LINK_COLUMNS = (
    _col("links.csv", "a", _parse_str),
    _col("links.csv", "b", _parse_str),
    _col("links.csv", "bandwidth_gbps", _parse_float),
    _col("links.csv", "latency_ms", _parse_float, 0.0),
)
JOB_COLUMNS = (
    _col("jobs.csv", "job_id", _parse_str),
    _col("jobs.csv", "gpus", _parse_int, 1),
    _col("jobs.csv", "power_kw", _parse_float),
    _col("jobs.csv", "work_h", _parse_float),
    _col("jobs.csv", "checkpoint_gb", _parse_float),
    _col("jobs.csv", "arrival_h", _parse_float),
    _col("jobs.csv", "deadline_h", _parse_float, None),
    _col("jobs.csv", "origin", _parse_str),
    _col("jobs.csv", "migratable", _parse_bool, True),
)

#: instance.toml numeric keys and their ranges (``horizon_h`` is required, the rest default).
PARAM_RANGES = COLUMN_RANGES["instance.toml"]
TRACE_TIME = COLUMN_RANGES["traces.csv"]["time"]
CAPACITY_FACTOR = COLUMN_RANGES["traces.csv"]["<profile>"]
CARBON = COLUMN_RANGES["traces.csv"]["<carbon>"]
PARAM_KEYS = (*PARAM_RANGES, "start", "meta")


# ---- CSV tables ----------------------------------------------------------------------------


@dataclass
class _Table:
    """A CSV file as text cells, ``None`` where a row is short of fields; ``lines[i]`` is the line
    on which row ``i`` starts."""

    file: str
    header: list[str]
    lines: list[int] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)

    def column(self, name: str) -> list[str | None]:
        k = self.header.index(name)
        return [row[k] for row in self.rows]


def _read_text(folder: Path, file: str, probs: _Problems) -> str | None:
    path = folder / file
    if not path.is_file():
        probs.file(file, "missing file")
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        probs.file(file, f"not UTF-8 text ({err.reason} at byte {err.start})")
    except OSError as err:
        probs.file(file, f"cannot read ({err.strerror})")
    return None


def _read_table(folder: Path, file: str, probs: _Problems) -> _Table | None:
    """Read a CSV file as text; report CSV syntax, header and row-length problems."""
    text = _read_text(folder, file, probs)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for record in reader:
            if len(record) > 1 or (record and record[0].strip()):
                records.append((line, [cell.strip() for cell in record]))
            line = reader.line_num + 1
    except csv.Error as err:
        probs.file(file, f"CSV syntax error on line {reader.line_num}: {err}")
        return None
    if not records:
        probs.file(file, "empty file (no header line)")
        return None
    header_line, header = records[0]
    table = _Table(file, [])
    for name in header:
        if name in table.header:
            probs.cell(file, header_line, name, "duplicate column")
        table.header.append(name)
    for line, cells in records[1:]:
        if len(cells) > len(header):
            probs.cell(
                file,
                line,
                len(header) + 1,
                f"{len(cells) - len(header)} field(s) more than the {len(header)} of the header",
            )
        elif len(cells) < len(header):
            probs.cell(
                file,
                line,
                header[len(cells)],
                f"missing field (row has {len(cells)} fields, header has {len(header)})",
            )
        table.lines.append(line)
        table.rows.append(cells + [None] * (len(header) - len(cells)))
    return table


def _check_columns(table: _Table, columns: tuple[_Column, ...], probs: _Problems) -> None:
    known = [c.name for c in columns]
    for name in dict.fromkeys(table.header):
        if name not in known:
            probs.cell(table.file, 1, name, f"unknown column (allowed: {', '.join(known)})")
    for col in columns:
        if col.required and col.name not in table.header:
            probs.file(table.file, f"missing required column {col.name!r}")


@dataclass
class _Row:
    line: int
    values: dict[str, Any]  # the cells that parsed; defaults for left-out columns


def _parse_rows(table: _Table, columns: tuple[_Column, ...], probs: _Problems) -> list[_Row]:
    """Parse every known column of every row, reporting each bad cell."""
    _check_columns(table, columns, probs)
    rows = []
    index = {c.name: table.header.index(c.name) for c in columns if c.name in table.header}
    for line, cells in zip(table.lines, table.rows, strict=True):
        row = _Row(line, {})
        for col in columns:
            if col.name not in table.header:
                if not col.required:
                    row.values[col.name] = col.default
                continue
            text = cells[index[col.name]]
            if text is None:  # short row, already reported
                continue
            if text == "":
                if col.required:
                    probs.cell(table.file, line, col.name, "empty cell in a required column")
                else:
                    row.values[col.name] = col.default
            else:
                try:
                    value = col.parse(text)
                    if col.check is not None and value not in col.check:
                        raise _Bad(f"must be {col.check}, got {text}")
                except _Bad as err:
                    probs.cell(table.file, line, col.name, str(err))
                else:
                    row.values[col.name] = value
        rows.append(row)
    return rows


def _check_unique(rows: list[_Row], key: str, file: str, probs: _Problems) -> dict[str, int]:
    """Report repeated ids; return each id's first line."""
    first: dict[str, int] = {}
    for row in rows:
        ident = row.values.get(key)
        if ident is None:
            continue
        if ident in first:
            probs.cell(
                file,
                row.line,
                key,
                f"duplicate {key} {ident!r} (first on line {first[ident]})",
            )
        else:
            first[ident] = row.line
    return first


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
        return _parse_timestamp(value)
    raise _Bad(f"expected a timestamp, got {value!r}")


def _read_parameters(folder: Path, probs: _Problems) -> Parameters | None:
    """Parse and check ``instance.toml``; ``None`` if anything is wrong with it."""
    file = "instance.toml"
    text = _read_text(folder, file, probs)
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
            except _Bad as err:
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
    table: _Table, start: datetime | None, probs: _Problems
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
                raise _Bad("empty time")
            if numeric:
                try:
                    float(text)
                except ValueError:
                    message = f"expected hours (a number, like the first time), got {text!r}"
                    raise _Bad(message) from None
                hours = _parse_float(text)
                if hours not in TRACE_TIME:
                    raise _Bad(f"must be {TRACE_TIME} (hours from slot 0), got {text}")
                parsed.append(hours)
            else:
                parsed.append(_parse_timestamp(text))
        except _Bad as err:
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
    table: _Table,
    params: Parameters | None,
    profiles: set[str],
    carbons: set[str],
    probs: _Problems,
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
                    raise _Bad("empty cell in a trace column a site names")
                values[i] = _parse_float(text)
                if name in profiles and values[i] not in CAPACITY_FACTOR:
                    raise _Bad(f"capacity factor must be {CAPACITY_FACTOR}, got {text}")
                if name in carbons and values[i] not in CARBON:
                    raise _Bad(f"carbon intensity must be {CARBON}, got {text}")
            except _Bad as err:
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
    probs = _Problems()
    params = _read_parameters(folder, probs)
    tables = {f: _read_table(folder, f, probs) for f in FILES[1:]}

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
    site_rows: list[_Row] = []
    if tables["sites.csv"] is not None:
        site_rows = _parse_rows(tables["sites.csv"], SITE_COLUMNS, probs)
        if not site_rows:
            probs.file("sites.csv", "no sites")
        _check_unique(site_rows, "site_id", "sites.csv", probs)
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
    link_rows: list[_Row] = []
    if tables["links.csv"] is not None:
        link_rows = _parse_rows(tables["links.csv"], LINK_COLUMNS, probs)
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
    job_rows: list[_Row] = []
    if tables["jobs.csv"] is not None:
        job_rows = _parse_rows(tables["jobs.csv"], JOB_COLUMNS, probs)
        _check_unique(job_rows, "job_id", "jobs.csv", probs)
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


def _records_csv(records: tuple, columns: tuple[_Column, ...]) -> str:
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
