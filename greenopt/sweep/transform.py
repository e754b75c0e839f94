"""Instance transformations a sweep parameter can apply (SPEC §2 quantities).

Every knob rewrites a copy of the instance; nothing else changes:

- a global parameter of ``instance.toml``: ``alpha``, ``slowdown_weight``,
  ``checkpoint_overhead_s``, ``link_efficiency``, ``network_kwh_per_gb``, ``transfer_endpoint_kw``;
- ``bandwidth_gbps`` (every link gets this bandwidth), ``bandwidth_scale`` (every link's bandwidth
  × factor), ``latency_ms`` (every link gets this latency);
- ``checkpoint_gb`` (every job gets this checkpoint size), ``checkpoint_scale`` (× factor);
- ``pue_spread`` = f: every site's PUE becomes m + f · (pue − m), m the sites' mean PUE (0: all at
  the mean, 1: unchanged); a PUE below 1 is an error;
- ``job_load`` = f: the job set becomes round(f · n) jobs (at least 1). f < 1 keeps a seeded
  random subset in the original order; f > 1 keeps every job and adds ⌊f⌋ − 1 full copies plus a
  seeded random subset for the fractional part, copy k of job ``j`` being named ``j~k`` (same
  arrival, origin and size).

Fixed values are applied before scale factors.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from greenopt.instance import Instance


@dataclass(frozen=True)
class Knob:
    """One sweepable instance quantity and its admissible range."""

    name: str
    doc: str
    lower: float
    lower_open: bool = False
    upper: float | None = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not admissible, or ``None``."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{self.name} must be a number, got {value!r}"
        if not math.isfinite(value):
            return f"{self.name} must be finite, got {value!r}"
        if value < self.lower or (self.lower_open and value == self.lower):
            bound = ">" if self.lower_open else ">="
            return f"{self.name} must be {bound} {self.lower:g}, got {value!r}"
        if self.upper is not None and value > self.upper:
            return f"{self.name} must be <= {self.upper:g}, got {value!r}"
        return None


KNOBS: dict[str, Knob] = {
    k.name: k
    for k in (
        Knob("alpha", "window fraction alpha (instance.toml)", 0.0, True, 1.0),
        Knob("slowdown_weight", "kWh per unit of slowdown per job (instance.toml)", 0.0),
        Knob("checkpoint_overhead_s", "save + restore overhead, s (instance.toml)", 0.0),
        Knob("link_efficiency", "usable fraction of bandwidth (instance.toml)", 0.0, True, 1.0),
        Knob("network_kwh_per_gb", "transfer energy per GB (instance.toml)", 0.0),
        Knob("transfer_endpoint_kw", "endpoint power during transfers (instance.toml)", 0.0),
        Knob("bandwidth_gbps", "bandwidth of every link, Gbps", 0.0, True),
        Knob("bandwidth_scale", "factor on every link's bandwidth", 0.0, True),
        Knob("latency_ms", "latency of every link, ms", 0.0),
        Knob("checkpoint_gb", "checkpoint size of every job, GB", 0.0, True),
        Knob("checkpoint_scale", "factor on every job's checkpoint size", 0.0, True),
        Knob("job_load", "factor on the number of jobs (subsample / replicate)", 0.0, True),
        Knob("pue_spread", "factor on each site's PUE deviation from the mean PUE", 0.0),
    )
}

PARAMETER_KNOBS = (
    "alpha",
    "slowdown_weight",
    "checkpoint_overhead_s",
    "link_efficiency",
    "network_kwh_per_gb",
    "transfer_endpoint_kw",
)


def apply_transforms(instance: Instance, changes: Mapping[str, Any], seed: int = 0) -> Instance:
    """A copy of ``instance`` with every knob in ``changes`` applied (``seed`` drives
    ``job_load`` sampling). Unknown names and inadmissible values raise ``ValueError``."""
    problems = [f"unknown instance parameter {name!r}" for name in changes if name not in KNOBS]
    problems += [
        p for name, v in changes.items() if name in KNOBS and (p := KNOBS[name].problem(v))
    ]
    if problems:
        raise ValueError("; ".join(problems))
    if not changes:
        return instance

    params = instance.params
    new_params = {k: float(changes[k]) for k in PARAMETER_KNOBS if k in changes}
    if new_params:
        params = dataclasses.replace(params, **new_params)

    links = instance.links
    if "bandwidth_gbps" in changes:
        links = tuple(
            dataclasses.replace(lk, bandwidth_gbps=float(changes["bandwidth_gbps"])) for lk in links
        )
    if "bandwidth_scale" in changes:
        f = float(changes["bandwidth_scale"])
        links = tuple(dataclasses.replace(lk, bandwidth_gbps=lk.bandwidth_gbps * f) for lk in links)
    if "latency_ms" in changes:
        links = tuple(
            dataclasses.replace(lk, latency_ms=float(changes["latency_ms"])) for lk in links
        )

    jobs = instance.jobs
    if "checkpoint_gb" in changes:
        size = float(changes["checkpoint_gb"])
        jobs = tuple(dataclasses.replace(j, checkpoint_gb=size) for j in jobs)
    if "checkpoint_scale" in changes:
        f = float(changes["checkpoint_scale"])
        jobs = tuple(dataclasses.replace(j, checkpoint_gb=j.checkpoint_gb * f) for j in jobs)
    if "job_load" in changes:
        jobs = scale_jobs(jobs, float(changes["job_load"]), seed)

    sites = instance.sites
    if "pue_spread" in changes:
        sites = spread_pue(sites, float(changes["pue_spread"]))

    return instance.replace(params=params, links=links, jobs=jobs, sites=sites)


def spread_pue(sites: tuple, factor: float) -> tuple:
    """Sites with PUE m + factor · (pue − m), m the mean PUE; ``ValueError`` below 1."""
    if not sites:
        return sites
    mean = float(np.mean([s.pue for s in sites]))
    out = tuple(dataclasses.replace(s, pue=mean + factor * (s.pue - mean)) for s in sites)
    low = [f"{s.site_id} ({s.pue:.3f})" for s in out if s.pue < 1.0]
    if low:
        raise ValueError(f"pue_spread {factor:g} gives PUE below 1 at {', '.join(low)}")
    return out


def scale_jobs(jobs: tuple, factor: float, seed: int) -> tuple:
    """round(factor · n) jobs (at least 1): a seeded subset when shrinking; all jobs, ⌊factor⌋ − 1
    full copies and a seeded subset of one more copy when growing. Copy k of ``j`` is ``j~k``."""
    n = len(jobs)
    if n == 0:
        return jobs
    target = max(1, int(round(factor * n)))
    rng = np.random.default_rng(seed)
    if target <= n:
        keep = np.sort(rng.choice(n, size=target, replace=False))
        return tuple(jobs[i] for i in keep)
    full, rest = divmod(target, n)
    out = list(jobs)
    for k in range(1, full):
        out += [dataclasses.replace(j, job_id=f"{j.job_id}~{k}") for j in jobs]
    extra = np.sort(rng.choice(n, size=rest, replace=False)) if rest else []
    out += [dataclasses.replace(jobs[i], job_id=f"{jobs[i].job_id}~{full}") for i in extra]
    ids = [j.job_id for j in out]
    if len(set(ids)) != len(ids):
        raise ValueError("job_load replication produced duplicate job ids (ids containing '~k')")
    return tuple(out)
