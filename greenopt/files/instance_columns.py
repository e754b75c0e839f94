"""The columns of an instance folder (SPEC §2): each number's range (:data:`COLUMN_RANGES`,
:data:`DERIVED_LIMITS`, rendered for the documentation by :func:`ranges_markdown`), the parser of
each cell and what an absent value means. Read by :mod:`greenopt.files.instance_files`."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from greenopt.files.csv_tables import (
    parse_bool,
    parse_float,
    parse_int,
    parse_str,
)


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


REQUIRED = object()


@dataclass(frozen=True)
class Column:
    """A CSV column: its parser, range, and what an absent value means.

    ``default`` is ``REQUIRED`` (column and cell must be present), ``None`` (optional: empty means
    absent) or the value an empty cell or a left-out column takes.
    """

    name: str
    parse: Callable[[str], Any]
    check: Range | None = None
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def column_spec(
    file: str, name: str, parse: Callable[[str], Any], default: Any = REQUIRED
) -> Column:
    """A column whose range is the one of :data:`COLUMN_RANGES` (if any)."""
    return Column(name, parse, COLUMN_RANGES[file].get(name), default)


SITE_COLUMNS = (
    column_spec("sites.csv", "site_id", parse_str),
    column_spec("sites.csv", "gpus", parse_int),
    column_spec("sites.csv", "pue", parse_float, 1.2),
    column_spec("sites.csv", "idle_kw", parse_float, 0.0),
    column_spec("sites.csv", "renewable_kw", parse_float),
    column_spec("sites.csv", "profile", parse_str),
    column_spec("sites.csv", "carbon", parse_str, None),
    column_spec("sites.csv", "lat", parse_float, None),
    column_spec("sites.csv", "lon", parse_float, None),
)
LINK_COLUMNS = (
    column_spec("links.csv", "a", parse_str),
    column_spec("links.csv", "b", parse_str),
    column_spec("links.csv", "bandwidth_gbps", parse_float),
    column_spec("links.csv", "latency_ms", parse_float, 0.0),
)
JOB_COLUMNS = (
    column_spec("jobs.csv", "job_id", parse_str),
    column_spec("jobs.csv", "gpus", parse_int, 1),
    column_spec("jobs.csv", "power_kw", parse_float),
    column_spec("jobs.csv", "work_h", parse_float),
    column_spec("jobs.csv", "checkpoint_gb", parse_float),
    column_spec("jobs.csv", "arrival_h", parse_float),
    column_spec("jobs.csv", "deadline_h", parse_float, None),
    column_spec("jobs.csv", "origin", parse_str),
    column_spec("jobs.csv", "migratable", parse_bool, True),
)

#: instance.toml numeric keys and their ranges (``horizon_h`` is required, the rest default).
PARAM_RANGES = COLUMN_RANGES["instance.toml"]
TRACE_TIME = COLUMN_RANGES["traces.csv"]["time"]
CAPACITY_FACTOR = COLUMN_RANGES["traces.csv"]["<profile>"]
CARBON = COLUMN_RANGES["traces.csv"]["<carbon>"]
PARAM_KEYS = (*PARAM_RANGES, "start", "meta")
