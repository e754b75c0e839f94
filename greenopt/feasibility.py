"""The feasibility domain of checkpoint migration (SPEC §3).

Formulas (s: seconds, h: hours):

* T_mig = checkpoint_overhead_s + 8 · checkpoint_gb / (B · link_efficiency) + latency      [s]
* E_mig = network_kwh_per_gb · checkpoint_gb + transfer_endpoint_kw · T_mig / 3600           [kWh]
* W_b(t, j): run of consecutive slots from t with R[b,t'] − idle_kw_b ≥ pue_b · power_kw_j   [h]
* T_be = E_mig / (pue_b · power_kw_j)                                                         [h]
* feasible ⇔ migratable ∧ connected ∧ T_mig ≤ alpha · W · 3600 ∧ T_be ≤ W − τ
* S_max(B, W) = (alpha · W · 3600 − overhead − latency) · B · link_efficiency / 8             [GB]
  is the largest checkpoint the time condition admits (SPEC §3's formula). The energy condition
  bounds it too: T_be grows linearly with the size, so the largest checkpoint that is feasible
  (both conditions) is min(S_max, S_be) with
  S_be = ((W − τ)·pue·power_kw − e·(overhead + latency)/3600) / (n + 8e/(3600·B·link_efficiency)),
  n = network_kwh_per_gb, e = transfer_endpoint_kw.                                          [GB]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenopt.instance import Instance, Job, Parameters, Site
from greenopt.network import Route

#: Relative tolerance of the feasibility inequalities (guards against rounding at the frontier).
TOLERANCE = 1e-9


def migration_time_s(params: Parameters, checkpoint_gb: float, route: Route) -> float:
    """T_mig (s) of a checkpoint over ``route``."""
    return transfer_time_s(params, checkpoint_gb, route.bandwidth_gbps, route.latency_ms)


def transfer_time_s(params: Parameters, checkpoint_gb, bandwidth_gbps, latency_ms):
    """T_mig (s) = overhead + 8·checkpoint_gb / (bandwidth · link_efficiency) + latency, for
    numbers or numpy arrays (broadcast)."""
    return (
        params.checkpoint_overhead_s
        + 8.0 * checkpoint_gb / (bandwidth_gbps * params.link_efficiency)
        + latency_ms / 1000.0
    )


def migration_energy_kwh(params: Parameters, checkpoint_gb: float, transfer_s: float) -> float:
    """E_mig (kWh, non-renewable) of a transfer lasting ``transfer_s`` seconds."""
    return (
        params.network_kwh_per_gb * checkpoint_gb + params.transfer_endpoint_kw * transfer_s / 3600
    )


def break_even_h(energy_kwh: float, pue: float, power_kw: float) -> float:
    """T_be (h): renewable running time at the destination that pays back the move."""
    return energy_kwh / (pue * power_kw)


def window_lengths(surplus_ok: np.ndarray, dt_h: float) -> np.ndarray:
    """Length (h) of the run of True slots starting at each slot (0 where the slot is False);
    runs stop at the end of the array. Works along the last axis."""
    ok = np.asarray(surplus_ok, bool)
    run = np.zeros(ok.shape, float)
    count = np.zeros(ok.shape[:-1], float)
    for t in range(ok.shape[-1] - 1, -1, -1):
        count = np.where(ok[..., t], count + 1, 0.0)
        run[..., t] = count
    return run * dt_h


def site_windows(renewable_kw: np.ndarray, site: Site, power_kw: float, dt_h: float) -> np.ndarray:
    """W_b(t) (h) for every slot t at ``site`` for a job drawing ``power_kw`` (IT)."""
    ok = renewable_kw - site.idle_kw >= site.pue * power_kw - TOLERANCE
    return window_lengths(ok, dt_h)


def is_feasible(
    params: Parameters,
    job: Job,
    route: Route | None,
    dest: Site,
    window_h: float,
    tau_h: float = 0.0,
) -> bool:
    """SPEC §3 feasibility of moving ``job`` along ``route`` into a destination window."""
    if not job.migratable or route is None:
        return False
    t_mig = migration_time_s(params, job.checkpoint_gb, route)
    t_be = break_even_h(
        migration_energy_kwh(params, job.checkpoint_gb, t_mig), dest.pue, job.power_kw
    )
    return bool(within_window(params, t_mig, t_be, window_h, tau_h))


def within_window(params: Parameters, t_mig_s, t_be_h, window_h, tau_h=0.0):
    """SPEC §3 time and energy conditions, T_mig ≤ alpha·W·3600 and T_be ≤ W − τ (with a relative
    tolerance at the frontier), for numbers or numpy arrays (elementwise)."""
    time_ok = t_mig_s <= params.alpha * window_h * 3600.0 * (1 + TOLERANCE)
    energy_ok = t_be_h <= window_h - tau_h + TOLERANCE
    return time_ok & energy_ok


class WindowTable:
    """W_b(t, j) for every job, site and slot, computed once from ``renewable_kw``."""

    def __init__(self, instance: Instance, renewable_kw: np.ndarray | None = None):
        self.instance = instance
        R = instance.renewable_kw if renewable_kw is None else renewable_kw
        idle = np.array([s.idle_kw for s in instance.sites])[None, :, None]
        pue = np.array([s.pue for s in instance.sites])[None, :, None]
        power = np.array([j.power_kw for j in instance.jobs])[:, None, None]
        ok = R[None, :, :] - idle >= pue * power - TOLERANCE
        #: shape (jobs, sites, slots), hours
        self.hours = window_lengths(ok, instance.dt_h)

    def __call__(self, job: int, site: int, slot: int) -> float:
        return float(self.hours[job, site, slot])


# ---- the domain on a grid (no instance needed) -------------------------------------------------


def max_checkpoint_gb(
    params: Parameters, bandwidth_gbps: float, window_h: float, latency_ms: float = 0.0
) -> float:
    """S_max(B, W): largest checkpoint (GB) whose transfer fits in alpha of a W-hour window (the
    time condition alone; 0 when even the overhead does not fit)."""
    return max(0.0, _time_limit_gb(params, bandwidth_gbps, window_h, latency_ms))


def _time_limit_gb(params: Parameters, bandwidth_gbps, window_h, latency_ms) -> float:
    """Size at which T_mig = alpha · W · 3600 (negative when the overhead alone exceeds it)."""
    usable_s = params.alpha * window_h * 3600.0 - params.checkpoint_overhead_s - latency_ms / 1000
    return usable_s * bandwidth_gbps * params.link_efficiency / 8.0


def break_even_limit_gb(
    params: Parameters,
    bandwidth_gbps: float,
    window_h: float,
    power_kw: float,
    pue: float,
    latency_ms: float = 0.0,
    tau_h: float = 0.0,
) -> float:
    """S_be: the size at which T_be = W − τ (energy condition alone; negative when even an empty
    checkpoint does not break even, +inf when migrating costs no energy)."""
    fixed_s = params.checkpoint_overhead_s + latency_ms / 1000
    per_gb_kwh = params.network_kwh_per_gb + params.transfer_endpoint_kw * 8.0 / (
        3600.0 * bandwidth_gbps * params.link_efficiency
    )
    budget_kwh = (window_h - tau_h) * pue * power_kw - params.transfer_endpoint_kw * fixed_s / 3600
    if per_gb_kwh <= 0:
        return np.inf if budget_kwh >= 0 else -np.inf
    return budget_kwh / per_gb_kwh


def max_feasible_checkpoint_gb(
    params: Parameters,
    bandwidth_gbps: float,
    window_h: float,
    power_kw: float,
    pue: float,
    latency_ms: float = 0.0,
    tau_h: float = 0.0,
) -> float | None:
    """Largest checkpoint (GB) that passes the whole SPEC §3 test (:func:`is_feasible`) on a path
    of this bandwidth and latency into a W-hour window, for a job of ``power_kw`` at a destination
    of ``pue``: min(S_max, S_be), both conditions being monotone in the size. None when no
    checkpoint, not even an empty one, is feasible."""
    limit = min(
        _time_limit_gb(params, bandwidth_gbps, window_h, latency_ms),
        break_even_limit_gb(params, bandwidth_gbps, window_h, power_kw, pue, latency_ms, tau_h),
    )
    return None if limit < 0 else float(limit)


def domain_table(
    params: Parameters,
    sizes_gb: list[float],
    bandwidths_gbps: list[float],
    windows_h: list[float],
    power_kw: float = 0.3,
    pue: float = 1.2,
    latency_ms: float = 0.0,
) -> pd.DataFrame:
    """One row per (size, bandwidth): T_mig, E_mig, break-even (min) and feasibility per window.

    The path is a single link of the given bandwidth and latency; the job arrives at a window start
    (τ = 0) and draws ``power_kw`` at a site of the given PUE.
    """
    dest = Site("dest", gpus=1, renewable_kw=0.0, profile="-", pue=pue)
    rows = []
    for size in sizes_gb:
        for bw in bandwidths_gbps:
            route = Route(("src", "dest"), bw, latency_ms)
            job = Job(
                "j", power_kw=power_kw, work_h=1, checkpoint_gb=size, arrival_h=0, origin="src"
            )
            t_mig = migration_time_s(params, size, route)
            e_mig = migration_energy_kwh(params, size, t_mig)
            row = {
                "checkpoint_gb": size,
                "bandwidth_gbps": bw,
                "transfer_s": t_mig,
                "energy_kwh": e_mig,
                "break_even_min": 60 * break_even_h(e_mig, pue, power_kw),
            }
            for w in windows_h:
                row[f"feasible_{w:g}h"] = is_feasible(params, job, route, dest, w)
            rows.append(row)
    return pd.DataFrame(rows)


def smax_table(
    params: Parameters,
    bandwidths_gbps: list[float],
    windows_h: list[float],
    latency_ms: float = 0.0,
) -> pd.DataFrame:
    """S_max (GB) with bandwidths as rows and window lengths as columns."""
    data = {
        f"{w:g}h": [max_checkpoint_gb(params, b, w, latency_ms) for b in bandwidths_gbps]
        for w in windows_h
    }
    return pd.DataFrame(data, index=pd.Index(bandwidths_gbps, name="bandwidth_gbps"))


def smax_conditions_table(
    params: Parameters,
    bandwidths_gbps: list[float],
    windows_h: list[float],
    power_kw: float = 0.3,
    pue: float = 1.2,
    latency_ms: float = 0.0,
) -> pd.DataFrame:
    """One row per (bandwidth, window): the largest checkpoint (GB) each condition admits —
    ``time_gb`` (S_max, SPEC §3's formula) and ``energy_gb`` (S_be) — and ``feasible_gb``, the
    largest that is feasible (both; NaN when none is), as :func:`domain_table` judges it."""
    rows = []
    for bw in bandwidths_gbps:
        for w in windows_h:
            feasible = max_feasible_checkpoint_gb(params, bw, w, power_kw, pue, latency_ms)
            rows.append(
                {
                    "bandwidth_gbps": bw,
                    "window_h": w,
                    "time_gb": max_checkpoint_gb(params, bw, w, latency_ms),
                    "energy_gb": max(
                        0.0, break_even_limit_gb(params, bw, w, power_kw, pue, latency_ms)
                    ),
                    "feasible_gb": np.nan if feasible is None else feasible,
                }
            )
    return pd.DataFrame(rows)


def window_statistics(instance: Instance, power_kw: float | None = None) -> pd.DataFrame:
    """Maximal renewable windows per site for a job of ``power_kw`` (default: the median job power):
    count, mean, median and p90 length (h)."""
    if power_kw is None:
        power_kw = float(np.median([j.power_kw for j in instance.jobs])) if instance.jobs else 0.3
    rows = []
    for i, site in enumerate(instance.sites):
        w = site_windows(instance.renewable_kw[i], site, power_kw, instance.dt_h)
        starts = np.flatnonzero((w > 0) & np.append(True, w[:-1] == 0))
        lengths = w[starts]
        rows.append(
            {
                "site": site.site_id,
                "count": len(lengths),
                "mean_h": float(lengths.mean()) if len(lengths) else 0.0,
                "median_h": float(np.median(lengths)) if len(lengths) else 0.0,
                "p90_h": float(np.percentile(lengths, 90)) if len(lengths) else 0.0,
            }
        )
    return pd.DataFrame(rows)
