"""Section 2, break-even (claim 1): how long a job must run on renewable power at the destination
to pay back the energy of its move, over checkpoint sizes, bandwidths and job powers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from greenopt.feasibility import migration_energy_kwh, migration_time_s
from greenopt.paper.report import STYLE, Context, fmt, md_table, num_list, pct
from greenopt.paper.sections.common import (
    BANDWIDTH_RANGE_GBPS,
    GRID_BANDWIDTHS_GBPS,
    GRID_SIZES_GB,
    MINUTES_BOUND,
    POWERS_KW,
    PUE,
    REF_BW_GBPS,
    SIZE_RANGE_GB,
    WINDOWS_H,
    break_even_min,
    full_fine_tune_7b,
    link,
)
from greenopt.plots import MODEL_CLASSES

#: Job power (kW) for single figures quoted in the text.
REF_POWER_KW = 0.4
#: Bandwidths (Gbps) of the curves and of the CSV table.
CURVE_BANDWIDTHS = (1.0, 10.0, 100.0)


def break_even_figure(ctx: Context) -> plt.Figure:
    """T_be against checkpoint size, one curve per job power and bandwidth."""
    sizes = np.geomspace(*SIZE_RANGE_GB, 121)
    bws = CURVE_BANDWIDTHS
    colors = dict(zip(POWERS_KW, ("tab:red", "tab:blue", "tab:green"), strict=True))
    styles = dict(zip(bws, (":", "--", "-"), strict=True))
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.8, 4.4))
        for power in POWERS_KW:
            for bw in bws:
                y = [break_even_min(ctx, s, bw, power) for s in sizes]
                ax.plot(sizes, y, color=colors[power], ls=styles[bw], lw=1.2)
        for w in WINDOWS_H:
            ax.axhline(60 * w, color="black", lw=0.6, ls="-.")
            ax.text(12.0, 60 * w * 1.06, f"window W = {w:g} h", fontsize=7)
        ax.axhline(MINUTES_BOUND, color="grey", lw=0.8)
        ax.text(1.5, MINUTES_BOUND * 1.06, f"{MINUTES_BOUND:g} min", fontsize=7)
        for label, gb in MODEL_CLASSES:
            ax.axvline(gb, color="grey", lw=0.5, ls=":")
            low = min(break_even_min(ctx, gb, b, q) for b in bws for q in POWERS_KW) < 3.0
            y, va = (1800.0, "top") if low else (0.35, "bottom")  # keep clear of the curves
            ax.text(gb * 1.05, y, label, rotation=90, fontsize=6.5, color="dimgrey", va=va)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(*SIZE_RANGE_GB)
        ax.set_ylim(0.3, 2000)
        ax.set_xlabel("checkpoint size S (GB)")
        ax.set_ylabel("break-even time T_be (min)")
        ax.set_title(f"Break-even T_be = E_mig / (PUE · P), PUE {PUE:g}", fontsize=9)
        power_handles = [plt.Line2D([], [], color=colors[q], label=f"P = {q:g} kW") for q in colors]
        bw_handles = [
            plt.Line2D([], [], color="black", ls=styles[b], label=f"B = {b:g} Gbps") for b in bws
        ]
        first = ax.legend(
            handles=power_handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), title="job power"
        )
        ax.add_artist(first)
        ax.legend(
            handles=bw_handles, loc="upper left", bbox_to_anchor=(1.02, 0.6), title="bandwidth"
        )
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    return fig


def model_class_tables(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(CSV table: every model class, bandwidth and power; Markdown table: the model classes at
    the reference bandwidth)."""
    p = ctx.params
    rows, md_rows = [], []
    for label, gb in MODEL_CLASSES:
        md = {"model class": label, "checkpoint (GB)": fmt(gb)}
        for bw in CURVE_BANDWIDTHS:
            t = migration_time_s(p, gb, link(bw))
            e = migration_energy_kwh(p, gb, t)
            for power in POWERS_KW:
                rows.append(
                    {
                        "model_class": label,
                        "checkpoint_gb": gb,
                        "bandwidth_gbps": bw,
                        "power_kw": power,
                        "transfer_s": t,
                        "energy_kwh": e,
                        "network_share": p.network_kwh_per_gb * gb / e,
                        "break_even_min": break_even_min(ctx, gb, bw, power),
                    }
                )
        e10 = migration_energy_kwh(p, gb, migration_time_s(p, gb, link(REF_BW_GBPS)))
        md["E_mig at 10 Gbps (kWh)"] = fmt(e10)
        md["network share of E_mig"] = pct(p.network_kwh_per_gb * gb / e10)
        for power in POWERS_KW:
            md[f"T_be, {power:g} kW (min)"] = fmt(break_even_min(ctx, gb, REF_BW_GBPS, power))
        md_rows.append(md)
    return pd.DataFrame(rows), pd.DataFrame(md_rows)


def section_break_even(ctx: Context) -> dict[str, str]:
    p = ctx.params
    fig_path = ctx.figure(break_even_figure(ctx), "break_even")
    table, md = model_class_tables(ctx)
    ctx.table(table, "break_even")

    # shares over a grid of sizes × bandwidths × powers
    be = np.array(
        [
            [[break_even_min(ctx, s, b, q) for q in POWERS_KW] for b in GRID_BANDWIDTHS_GBPS]
            for s in GRID_SIZES_GB
        ]
    )
    share10 = float((be <= MINUTES_BOUND).mean())
    share60 = float((be <= 60.0).mean())
    # fraction of E_mig that does not depend on bandwidth: the per-GB network energy
    bw_effect = float(
        max(
            abs(
                break_even_min(ctx, gb, BANDWIDTH_RANGE_GBPS[0], REF_POWER_KW)
                / break_even_min(ctx, gb, BANDWIDTH_RANGE_GBPS[1], REF_POWER_KW)
                - 1
            )
            for _, gb in MODEL_CLASSES
        )
    )
    fine = np.geomspace(*SIZE_RANGE_GB, 4001)

    def largest_within(power: float, bound: float) -> float:
        ok = [s for s in fine if break_even_min(ctx, s, BANDWIDTH_RANGE_GBPS[1], power) <= bound]
        return float(max(ok)) if ok else float("nan")

    s10_low, s10_high = (
        largest_within(min(POWERS_KW), MINUTES_BOUND),
        largest_within(max(POWERS_KW), MINUTES_BOUND),
    )
    small_gb = min(gb for _, gb in MODEL_CLASSES)
    big_gb = full_fine_tune_7b()[1]
    ctx.facts.update(
        be_max=float(be.max()),
        be_share10=share10,
        be_share60=share60,
        be_s10_low=s10_low,
        be_s10_high=s10_high,
    )
    return {
        "fig_break_even": fig_path,
        "break_even_table": md_table(md),
        "powers_text": num_list(POWERS_KW, "kW"),
        "pue": fmt(PUE),
        "network_kwh_per_gb": fmt(p.network_kwh_per_gb),
        "endpoint_kw": fmt(p.transfer_endpoint_kw),
        "be_min": fmt(float(be.min())),
        "be_max": fmt(float(be.max())),
        "be_max_h": fmt(float(be.max()) / 60),
        "minutes_bound": fmt(MINUTES_BOUND),
        "be_share10": pct(share10),
        "be_share60": pct(share60),
        "be_grid_n": str(be.size),
        "be_s10_low": fmt(s10_low),
        "be_s10_high": fmt(s10_high),
        "be_1gb": fmt(break_even_min(ctx, small_gb, REF_BW_GBPS, REF_POWER_KW)),
        "be_small_gb": fmt(small_gb),
        "ref_power": fmt(REF_POWER_KW),
        "be_big": fmt(break_even_min(ctx, big_gb, REF_BW_GBPS, REF_POWER_KW)),
        "be_big_gb": fmt(big_gb),
        "be_bw_effect": pct(bw_effect),
        "power_min": fmt(min(POWERS_KW)),
        "power_max": fmt(max(POWERS_KW)),
    }
