"""Section 2, what rules a move out (claim 2): for each checkpoint size, bandwidth, window length
and job power, whether a move is feasible and otherwise which SPEC §3 condition excludes it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from greenopt.feasibility import is_feasible, max_checkpoint_gb
from greenopt.instance import Job, Site
from greenopt.paper.report import STYLE, Context, fmt, md_table, pct
from greenopt.paper.sections.common import (
    GRID_BANDWIDTHS_GBPS,
    GRID_SIZES_GB,
    POWERS_KW,
    PUE,
    WINDOWS_H,
    break_even_min,
    link,
)

CATEGORIES = ("feasible", "time rules it out", "energy rules it out", "both rule it out")
CATEGORY_COLORS = ("#7fc97f", "#f0027f", "#386cb0", "#bf5b17")


def classify(ctx: Context, size: float, bw: float, window_h: float, power: float) -> int:
    """0 feasible, 1 time condition fails only, 2 energy condition fails only, 3 both (SPEC §3,
    one link, the job arriving at the window start)."""
    p = ctx.params
    time_ok = size <= max_checkpoint_gb(p, bw, window_h) * (1 + 1e-9)
    energy_ok = break_even_min(ctx, size, bw, power) / 60.0 <= window_h + 1e-9
    job = Job("j", power_kw=power, work_h=1.0, checkpoint_gb=size, arrival_h=0.0, origin="a")
    dest = Site("b", gpus=1, renewable_kw=0.0, profile="-", pue=PUE)
    if is_feasible(p, job, link(bw), dest, window_h) != (time_ok and energy_ok):
        raise RuntimeError(f"condition split disagrees with is_feasible at {size} GB, {bw} Gbps")
    return int(not time_ok) + 2 * int(not energy_ok)


def category_figure(ctx: Context, cats: dict[tuple[float, float], np.ndarray]) -> plt.Figure:
    """One panel per window length: the category of each (bandwidth, size) for the lowest job
    power."""
    q_show = min(POWERS_KW)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(WINDOWS_H), figsize=(11, 3.8), sharey=True)
        cmap = plt.matplotlib.colors.ListedColormap(CATEGORY_COLORS)
        for ax, w in zip(axes, WINDOWS_H, strict=True):
            mesh = cats[(w, q_show)]
            ax.pcolormesh(GRID_BANDWIDTHS_GBPS, GRID_SIZES_GB, mesh, cmap=cmap, vmin=-0.5, vmax=3.5)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"W = {w:g} h", fontsize=9)
            ax.set_xlabel("bandwidth B (Gbps)")
        axes[0].set_ylabel("checkpoint size S (GB)")
        handles = [
            Patch(color=c, label=n) for c, n in zip(CATEGORY_COLORS, CATEGORIES, strict=True)
        ]
        fig.legend(handles=handles, loc="lower center", ncols=4, bbox_to_anchor=(0.5, -0.06))
        fig.suptitle(
            f"Which condition excludes a move (job {q_show:g} kW, PUE {PUE:g}, "
            f"alpha {ctx.params.alpha:g}, arrival at window start)",
            fontsize=9,
        )
        fig.tight_layout()
    return fig


def section_time_vs_energy(ctx: Context) -> dict[str, str]:
    sizes, bws = GRID_SIZES_GB, GRID_BANDWIDTHS_GBPS
    cats = {
        (w, q): np.array([[classify(ctx, s, b, w, q) for b in bws] for s in sizes])
        for w in WINDOWS_H
        for q in POWERS_KW
    }
    rows = []
    for (w, q), c in cats.items():
        rows.append(
            {"window_h": w, "power_kw": q}
            | {name: float((c == i).mean()) for i, name in enumerate(CATEGORIES)}
        )
    table = pd.DataFrame(rows)
    ctx.table(table, "time_vs_energy")
    allc = np.concatenate([c.ravel() for c in cats.values()])
    shares = {name: float((allc == i).mean()) for i, name in enumerate(CATEGORIES)}
    excluded = 1.0 - shares["feasible"]
    energy_only = [
        (s, w) for (w, q), c in cats.items() for i, s in enumerate(sizes) if (c[i] == 2).any()
    ]
    time_among = (shares["time rules it out"] + shares["both rule it out"]) / excluded
    energy_only_among = shares["energy rules it out"] / excluded

    md_rows = []
    for w in WINDOWS_H:
        pooled = np.concatenate([cats[(w, q)].ravel() for q in POWERS_KW])
        md_rows.append(
            {"window": f"{w:g} h"}
            | {name: pct(float((pooled == i).mean()), 1) for i, name in enumerate(CATEGORIES)}
        )
    md_rows.append({"window": "all"} | {k: pct(v, 1) for k, v in shares.items()})
    fig_path = ctx.figure(category_figure(ctx, cats), "time_vs_energy")
    ctx.facts.update(te_time_among=time_among, te_shares=shares)
    return {
        "fig_time_vs_energy": fig_path,
        "time_vs_energy_table": md_table(pd.DataFrame(md_rows)),
        "te_n": str(allc.size),
        "te_feasible": pct(shares["feasible"]),
        "te_time_among": pct(time_among),
        "te_energy_only_among": pct(energy_only_among),
        "te_energy_only": pct(shares["energy rules it out"], 1),
        "te_energy_only_min_gb": fmt(min(s for s, _ in energy_only)) if energy_only else "–",
        "te_energy_only_max_w": fmt(max(w for _, w in energy_only)) if energy_only else "–",
        "te_power_shown": fmt(min(POWERS_KW)),
    }
