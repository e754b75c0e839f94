"""Typed instance objects (SPEC §1–§2).

An :class:`Instance` is immutable once loaded. Its trace data is held twice: ``traces`` keeps the
raw time series as read (for writing back out), and the slot-level arrays ``renewable_kw`` and
``carbon`` (sites × slots) are what models, policies and the simulator use. Indexing a slot past
the horizon raises ``IndexError``: traces never extrapolate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Parameters:
    """Global parameters from ``instance.toml`` (SPEC §2), with the SPEC defaults."""

    horizon_h: float
    slot_minutes: float = 15.0
    alpha: float = 0.1
    checkpoint_overhead_s: float = 60.0
    link_efficiency: float = 0.9
    network_kwh_per_gb: float = 0.002
    transfer_endpoint_kw: float = 0.2
    slowdown_weight: float = 1.0
    start: datetime | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dt_h(self) -> float:
        """Slot length Δ in hours."""
        return self.slot_minutes / 60.0

    @property
    def n_slots(self) -> int:
        return int(round(self.horizon_h / self.dt_h))


@dataclass(frozen=True)
class Site:
    site_id: str
    gpus: int
    renewable_kw: float
    profile: str
    pue: float = 1.2
    idle_kw: float = 0.0
    carbon: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Link:
    a: str
    b: str
    bandwidth_gbps: float
    latency_ms: float = 0.0


@dataclass(frozen=True)
class Job:
    job_id: str
    power_kw: float
    work_h: float
    checkpoint_gb: float
    arrival_h: float
    origin: str
    gpus: int = 1
    deadline_h: float | None = None
    migratable: bool = True


@dataclass(frozen=True, eq=False)
class Instance:
    """A validated instance. Build it with :func:`greenopt.files.load_instance` or directly.

    ``traces`` is a DataFrame indexed by hours from slot 0 (float), one column per profile.
    """

    params: Parameters
    sites: tuple[Site, ...]
    links: tuple[Link, ...]
    jobs: tuple[Job, ...]
    traces: pd.DataFrame
    name: str = "instance"
    #: ``FILE:LINE:COLUMN: warning: message`` per finding of
    #: :func:`greenopt.plausibility.check_instance`, filled by :func:`greenopt.files.load_instance`.
    warnings: tuple[str, ...] = field(default=(), repr=False)

    # ---- indices -------------------------------------------------------------------------
    @cached_property
    def site_index(self) -> dict[str, int]:
        return {s.site_id: i for i, s in enumerate(self.sites)}

    @cached_property
    def job_index(self) -> dict[str, int]:
        return {j.job_id: i for i, j in enumerate(self.jobs)}

    @property
    def n_slots(self) -> int:
        return self.params.n_slots

    @property
    def dt_h(self) -> float:
        return self.params.dt_h

    def arrival_slot(self, job: Job) -> int:
        """Slot containing the job's arrival, ⌊arrival_h/Δ⌋."""
        return int(np.floor(job.arrival_h / self.dt_h + 1e-9))

    # ---- slot-level data -------------------------------------------------------------------
    @cached_property
    def slot_traces(self) -> pd.DataFrame:
        """Time-weighted mean of every trace column over every slot (SPEC §2)."""
        return slot_means(self.traces, self.dt_h, self.n_slots)

    @cached_property
    def renewable_kw(self) -> np.ndarray:
        """R[s, t] = renewable_kw_s × cf[profile_s, t] (kW), shape (sites, slots), read-only."""
        cf = self.slot_traces
        out = np.array([s.renewable_kw * cf[s.profile].to_numpy() for s in self.sites], float)
        out = out.reshape(len(self.sites), self.n_slots)
        out.setflags(write=False)
        return out

    @cached_property
    def carbon(self) -> np.ndarray | None:
        """Grid carbon intensity (gCO2/kWh) per site and slot, NaN where a site has none;
        ``None`` when no site has a carbon column."""
        if all(s.carbon is None for s in self.sites):
            return None
        cf = self.slot_traces
        rows = [
            cf[s.carbon].to_numpy() if s.carbon else np.full(self.n_slots, np.nan)
            for s in self.sites
        ]
        out = np.array(rows, float)
        out.setflags(write=False)
        return out

    def with_renewable(self, renewable_kw: np.ndarray, name: str | None = None) -> Instance:
        """The same instance seen through other renewable power (a forecast)."""
        arr = np.array(renewable_kw, float)
        if arr.shape != (len(self.sites), self.n_slots):
            raise ValueError(
                f"renewable array shape {arr.shape} != {(len(self.sites), self.n_slots)}"
            )
        arr.setflags(write=False)
        clone = dataclasses.replace(self, name=name or self.name)
        clone.__dict__["renewable_kw"] = arr
        return clone

    def replace(self, **changes: Any) -> Instance:
        """A copy with fields replaced (``params=``, ``jobs=``...); derived data is recomputed and
        the loader's ``warnings`` are dropped (they describe the files read)."""
        return dataclasses.replace(self, **({"warnings": ()} | changes))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instance):
            return NotImplemented
        return (
            self.params == other.params
            and self.sites == other.sites
            and self.links == other.links
            and self.jobs == other.jobs
            and np.allclose(self.renewable_kw, other.renewable_kw, rtol=1e-9, atol=1e-12)
            and (
                (self.carbon is None and other.carbon is None)
                or (
                    self.carbon is not None
                    and other.carbon is not None
                    and np.allclose(self.carbon, other.carbon, equal_nan=True)
                )
            )
        )

    __hash__ = None  # type: ignore[assignment]


def slot_means(traces: pd.DataFrame, dt_h: float, n_slots: int) -> pd.DataFrame:
    """Time-weighted mean of step-function traces over slots [tΔ, (t+1)Δ).

    ``traces`` is indexed by strictly increasing hours; each value holds from its time to the next,
    the last one for the spacing before it. The traces must cover [0, n_slots·Δ).
    """
    times = traces.index.to_numpy(float)
    if len(times) == 0:
        raise ValueError("empty trace")
    last_len = times[-1] - times[-2] if len(times) > 1 else dt_h
    ends = np.append(times[1:], times[-1] + last_len)
    horizon = n_slots * dt_h
    if times[0] > 1e-9 or ends[-1] < horizon - 1e-9:
        raise ValueError(f"trace covers [{times[0]}, {ends[-1]}) h, not [0, {horizon}) h")
    values = traces.to_numpy(float)
    # cumulative integral at each breakpoint, then interpolate at slot edges
    cum = np.vstack([np.zeros(values.shape[1]), np.cumsum(values * (ends - times)[:, None], 0)])
    knots = np.append(times, ends[-1])
    edges = np.arange(n_slots + 1) * dt_h
    integ = np.column_stack([np.interp(edges, knots, cum[:, k]) for k in range(values.shape[1])])
    means = np.diff(integ, axis=0) / dt_h
    return pd.DataFrame(means, columns=traces.columns)
