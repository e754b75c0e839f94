"""Section 3, renewable windows in the bundled traces: the window lengths of the default
instance's sites over the whole block of bundled real profiles."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from greenopt.data import load_profiles, profile_info
from greenopt.feasibility import max_checkpoint_gb, site_windows, window_statistics
from greenopt.files import load_instance
from greenopt.instance import Instance
from greenopt.paper.report import STYLE, Context, fmt, md_table, num_list, pct
from greenopt.paper.sections.common import REF_BW_GBPS, WINDOWS_H

#: Windows at least this long (h) count as "long" in the window statistics.
LONG_WINDOW_H = 5.0

#: Horizontal box plots (``vert=False`` is deprecated from Matplotlib 3.10 on).
HORIZONTAL = (
    {"orientation": "horizontal"}
    if tuple(int(x) for x in matplotlib.__version__.split(".")[:2]) >= (3, 10)
    else {"vert": False}
)


def default_instance_path(ctx: Context) -> Path:
    """The instance folder the "default" experiment file names (at any build size: the quick
    build shrinks the experiment, not the bundled-trace statistics of Section 3)."""
    path = ctx.runs["default"].sweep.path
    raw = tomllib.loads(Path(path).read_text())
    return (Path(path).parent / raw["instance"]["folder"]).resolve()


def bundled_fleet(default: Instance) -> Instance:
    """The default instance's sites (capacities, PUE, idle load) over the whole block of bundled
    real profiles (28 days, 15-min slots), without jobs."""
    profiles = load_profiles()
    hours = (profiles.index - profiles.index[0]).total_seconds().to_numpy() / 3600.0
    step_h = float(hours[1] - hours[0])
    traces = pd.DataFrame(profiles.to_numpy(), index=hours, columns=profiles.columns)
    params = dataclasses.replace(
        default.params, horizon_h=len(hours) * step_h, start=profiles.index[0].to_pydatetime()
    )
    return Instance(params, default.sites, default.links, (), traces, name="default fleet, 28 d")


def window_lengths_by_site(instance: Instance, power_kw: float) -> dict[str, np.ndarray]:
    """Lengths (h) of the maximal renewable windows (SPEC §3 W at each window's first slot) of
    every site for a job of ``power_kw``."""
    out = {}
    for i, site in enumerate(instance.sites):
        w = site_windows(instance.renewable_kw[i], site, power_kw, instance.dt_h)
        first = (w > 0) & np.append(True, w[:-1] == 0)
        out[site.site_id] = w[first]
    return out


def window_figure(default: Instance, lengths: dict[str, np.ndarray], power: float) -> plt.Figure:
    """Box plots of the window lengths per site, every window as a dot."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.0, 3.9))
        names = [s.site_id for s in default.sites]
        data = [lengths[n] for n in names]
        ax.boxplot(data, whis=(5, 95), showfliers=False, **HORIZONTAL)
        rng = np.random.default_rng(0)
        for i, w in enumerate(data, start=1):
            ax.scatter(w, i + rng.uniform(-0.18, 0.18, len(w)), s=6, alpha=0.5, color="tab:blue")
        for w in WINDOWS_H:
            ax.axvline(w, color="tab:red", lw=0.8, ls="--")
        ax.set_yticks(
            range(1, len(names) + 1),
            [
                f"{n} ({profile_info(s.profile).kind})"
                for n, s in zip(names, default.sites, strict=True)
            ],
        )
        ax.set_xscale("log")
        ax.set_xlabel("renewable window length (h), log scale")
        ax.set_title(
            f"Windows of the default sites over the bundled 28-day traces (job {power:g} kW); "
            f"dashed: {num_list(WINDOWS_H, 'h')}",
            fontsize=8.5,
        )
        ax.grid(True, axis="x", which="both", lw=0.3, alpha=0.5)
    return fig


def section_windows(ctx: Context) -> dict[str, str]:
    default = load_instance(default_instance_path(ctx))
    power = float(np.median([j.power_kw for j in default.jobs]))
    fleet = bundled_fleet(default)
    lengths = window_lengths_by_site(fleet, power)
    stats = window_statistics(fleet, power).set_index("site")
    short = window_statistics(default, power).set_index("site")
    rows = []
    for site in default.sites:
        w = lengths[site.site_id]
        rows.append(
            {
                "site": site.site_id,
                "profile": site.profile,
                "kind": profile_info(site.profile).kind,
                "renewable_kw": site.renewable_kw,
                "windows_28d": int(stats.loc[site.site_id, "count"]),
                "mean_h": float(stats.loc[site.site_id, "mean_h"]),
                "median_h": float(stats.loc[site.site_id, "median_h"]),
                "p90_h": float(stats.loc[site.site_id, "p90_h"]),
                "max_h": float(w.max()) if len(w) else 0.0,
                "share_hours_in_long_windows": float(w[w >= LONG_WINDOW_H].sum() / w.sum())
                if len(w)
                else 0.0,
                "windows_3d_default": int(short.loc[site.site_id, "count"]),
                "mean_h_3d_default": float(short.loc[site.site_id, "mean_h"]),
            }
        )
    table = pd.DataFrame(rows)
    ctx.table(table, "windows")
    md = pd.DataFrame(
        {
            "site": table["site"],
            "kind": table["kind"],
            "windows (28 d)": table["windows_28d"].astype(str),
            "mean (h)": table["mean_h"].map(fmt),
            "median (h)": table["median_h"].map(fmt),
            "p90 (h)": table["p90_h"].map(fmt),
            "max (h)": table["max_h"].map(fmt),
            f"windows / mean (h), default {fmt(default.params.horizon_h)} h": [
                f"{n} / {fmt(m)}"
                for n, m in zip(
                    table["windows_3d_default"], table["mean_h_3d_default"], strict=True
                )
            ],
        }
    )
    everything = np.concatenate([v for v in lengths.values() if len(v)])
    fig_path = ctx.figure(window_figure(default, lengths, power), "windows")
    kinds = table.groupby("kind")["mean_h"].mean()
    median_all = float(np.median(everything))
    return {
        "fig_windows": fig_path,
        "windows_table": md_table(md),
        "win_power": fmt(power),
        "win_default_horizon": fmt(default.params.horizon_h),
        "win_days": fmt(fleet.params.horizon_h / 24),
        "win_start": fleet.params.start.date().isoformat(),
        "win_sites": str(len(default.sites)),
        "win_count": str(len(everything)),
        "win_mean_lo": fmt(float(table["mean_h"].min())),
        "win_mean_hi": fmt(float(table["mean_h"].max())),
        "win_median": fmt(median_all),
        "win_short_share": pct(float((everything < WINDOWS_H[0]).mean())),
        "win_hours_long_share": pct(
            float(everything[everything >= LONG_WINDOW_H].sum() / everything.sum())
        ),
        "long_window": fmt(LONG_WINDOW_H),
        "win_pv_mean": fmt(float(kinds.get("pv", np.nan))),
        "win_wind_mean": fmt(float(kinds.get("wind", np.nan))),
        "win_smax_median": fmt(max_checkpoint_gb(ctx.params, REF_BW_GBPS, median_all)),
    }
