"""Section 1, the feasibility domain: frontiers S_max(B, W) for the window lengths, with the
model classes placed on them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from greenopt.feasibility import max_checkpoint_gb, migration_time_s, smax_table
from greenopt.paper.report import STYLE, Context, fmt, md_table, num_list, pct
from greenopt.paper.sections.common import (
    BANDWIDTH_RANGE_GBPS,
    REF_BW_GBPS,
    SIZE_RANGE_GB,
    WINDOWS_H,
    full_fine_tune_7b,
    link,
)
from greenopt.plots import MODEL_CLASSES, plot_feasibility_domain

#: Bandwidths (Gbps) of the rows of the S_max table.
TABLE_BANDWIDTHS = (1.0, 10.0, 25.0, 40.0, 100.0)


def section_domain(ctx: Context) -> dict[str, str]:
    """Frontiers S_max(B, W) for the window lengths, model classes placed on them."""
    p = ctx.params
    with plt.rc_context(STYLE):
        fig = plot_feasibility_domain(
            p, list(WINDOWS_H), BANDWIDTH_RANGE_GBPS, SIZE_RANGE_GB, path=None
        )
    fig_path = ctx.figure(fig, "feasibility_domain")

    smax = smax_table(p, list(TABLE_BANDWIDTHS), list(WINDOWS_H))
    smax_csv = smax.copy()
    smax_csv.columns = [f"smax_gb_W{w:g}h" for w in WINDOWS_H]
    ctx.table(smax_csv.reset_index(), "smax")
    smax_md = pd.DataFrame(
        {"bandwidth (Gbps)": [fmt(b) for b in TABLE_BANDWIDTHS]}
        | {f"W = {w:g} h": [fmt(v) for v in smax[f"{w:g}h"]] for w in WINDOWS_H}
    )

    rows, md_rows = [], []
    per_gbps = {w: max_checkpoint_gb(p, 1.0, w) for w in WINDOWS_H}  # S_max is linear in B
    for label, gb in MODEL_CLASSES:
        t10 = migration_time_s(p, gb, link(REF_BW_GBPS))
        w_min = t10 / (p.alpha * 3600.0)  # shortest window admitting the move at REF_BW
        row = {"model_class": label, "checkpoint_gb": gb, "transfer_s_ref_bw": t10}
        row |= {f"min_bandwidth_gbps_W{w:g}h": gb / per_gbps[w] for w in WINDOWS_H}
        row["min_window_h_ref_bw"] = w_min
        rows.append(row)
        md = {
            "model class": label,
            "checkpoint (GB)": fmt(gb),
            f"T_mig at {fmt(REF_BW_GBPS)} Gbps (s)": fmt(t10),
        }
        for w in WINDOWS_H:
            need = gb / per_gbps[w]
            md[f"min. bandwidth, W = {w:g} h (Gbps)"] = (
                fmt(need) if need <= BANDWIDTH_RANGE_GBPS[1] else f"{fmt(need)} (> range)"
            )
        md[f"min. window at {fmt(REF_BW_GBPS)} Gbps (h)"] = fmt(w_min)
        md_rows.append(md)
    classes = pd.DataFrame(rows)
    ctx.table(classes, "model_classes")

    lo_bw, short_w, long_w = BANDWIDTH_RANGE_GBPS[0], WINDOWS_H[0], WINDOWS_H[-1]
    everywhere = [c for c, gb in MODEL_CLASSES if gb <= max_checkpoint_gb(p, lo_bw, short_w)]
    outside = [c for c, gb in MODEL_CLASSES if gb > max_checkpoint_gb(p, lo_bw, long_w)]
    fit_everywhere = (
        f"{num_list(everywhere)} checkpoints fit every bandwidth and window of the grid;"
        if everywhere
        else "No model class fits every bandwidth and window of the grid;"
    )
    fit_largest = (
        f"{num_list(outside)} checkpoints need more than {fmt(lo_bw)} Gbps even for a "
        f"{fmt(long_w)}-h window."
        if outside
        else f"Every class fits a {fmt(long_w)}-h window at {fmt(lo_bw)} Gbps."
    )
    big = full_fine_tune_7b()
    big_row = classes[classes["model_class"] == big[0]].iloc[0]
    return {
        "alpha": fmt(p.alpha),
        "alpha_pct": pct(p.alpha),
        "overhead_s": fmt(p.checkpoint_overhead_s),
        "link_efficiency": fmt(p.link_efficiency),
        "windows_text": num_list(WINDOWS_H, "h"),
        "size_range": f"{fmt(SIZE_RANGE_GB[0])} GB–{fmt(SIZE_RANGE_GB[1] / 1000)} TB",
        "bandwidth_range": f"{fmt(BANDWIDTH_RANGE_GBPS[0])}–{fmt(BANDWIDTH_RANGE_GBPS[1])} Gbps",
        "fig_domain": fig_path,
        "smax_table": md_table(smax_md),
        "classes_table": md_table(pd.DataFrame(md_rows)),
        "smax_10_short": fmt(float(smax.loc[REF_BW_GBPS, f"{short_w:g}h"])),
        "smax_10_long": fmt(float(smax.loc[REF_BW_GBPS, f"{long_w:g}h"])),
        "window_short": fmt(short_w),
        "window_long": fmt(long_w),
        "big_class": big[0],
        "big_gb": fmt(big[1]),
        "big_bmin_short": fmt(float(big_row[f"min_bandwidth_gbps_W{short_w:g}h"])),
        "big_bmin_long": fmt(float(big_row[f"min_bandwidth_gbps_W{long_w:g}h"])),
        "big_wmin_10": fmt(float(big_row["min_window_h_ref_bw"])),
        "big_t10": fmt(float(big_row["transfer_s_ref_bw"])),
        "ref_bw": fmt(REF_BW_GBPS),
        "fit_everywhere": fit_everywhere,
        "fit_largest": fit_largest,
    }
