"""Sections 6.1 and 6.2, bandwidth, checkpoint size and window fraction alpha
(``bandwidth.toml``): NRE, stability and (infeasible) migrations of each policy over the grid."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from greenopt.paper.report import (
    POLICY_COLORS,
    STYLE,
    Context,
    fmt,
    labelled,
    num_list,
    ordered_labels,
)
from greenopt.paper.sections.common import compare_word, experiment_instance

#: Rows of the bandwidth figure: (metric, axis label).
BANDWIDTH_METRICS = (
    ("nre_kwh", "NRE (kWh)"),
    ("slowdown_std", "slowdown std (×)"),
    ("infeasible_migrations", "infeasible migrations"),
)
#: Rows of the alpha figure: (metric, axis label).
ALPHA_METRICS = (("nre_kwh", "NRE (kWh)"), ("migrations", "migrations"))
MARKERS = ("o", "s", "^", "D", "v")
SIZE_STYLES = ("-", "--", ":", "-.")


def nearest(values, target: float) -> float:
    """The value of ``values`` nearest ``target`` on a log scale."""
    vals = sorted({float(v) for v in values})
    return min(vals, key=lambda v: (abs(np.log(v / target)) if v > 0 else np.inf, v))


def bandwidth_figure(
    sub: pd.DataFrame, labels: list[str], instance_name: str, alpha: float
) -> plt.Figure:
    """One column per checkpoint size, one row per metric, against bandwidth, at one alpha."""
    sizes = sorted(sub["checkpoint_gb"].astype(float).unique())
    markers = dict(zip(labels, MARKERS, strict=False))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            len(BANDWIDTH_METRICS),
            len(sizes),
            figsize=(3.4 * len(sizes), 7.4),
            sharex=True,
            sharey="row",
            squeeze=False,
        )
        for c, size in enumerate(sizes):
            for r, (m, header) in enumerate(BANDWIDTH_METRICS):
                ax = axes[r, c]
                for k in labels:
                    rows = sub[(sub["label"] == k) & np.isclose(sub["checkpoint_gb"], size)]
                    g = rows.groupby("bandwidth_gbps")[m].mean()
                    ax.plot(
                        g.index, g.values, marker=markers[k], color=POLICY_COLORS.get(k, "black"),
                        label=k,
                    )  # fmt: skip
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
                ax.grid(True, which="both", lw=0.3, alpha=0.5)
                if c == 0:
                    ax.set_ylabel(header)
                if r == 0:
                    ax.set_title(f"checkpoint {fmt(size)} GB")
                if r == len(BANDWIDTH_METRICS) - 1:
                    ax.set_xlabel("bandwidth of every link (Gbps)")
        axes[0, 0].legend()
        fig.suptitle(
            f"Bandwidth and checkpoint size on {instance_name} (alpha = {fmt(alpha)})",
            fontsize=9,
        )
        fig.tight_layout()
    return fig


def alpha_figure(
    df: pd.DataFrame, labels: list[str], sizes: list[float], bws: list[float], instance_name: str
) -> plt.Figure:
    """One column per bandwidth, NRE and migrations against alpha, one line style per checkpoint
    size."""
    colors = {k: POLICY_COLORS.get(k, "black") for k in labels}
    markers = dict(zip(labels, MARKERS, strict=False))
    styles = dict(zip(sizes, SIZE_STYLES, strict=False))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            2,
            len(bws),
            figsize=(3.4 * len(bws) + 1.6, 6.0),
            sharex=True,
            sharey="row",
            squeeze=False,
        )
        for c, bw in enumerate(bws):
            at = df[np.isclose(df["bandwidth_gbps"].astype(float), bw)]
            for r, (m, header) in enumerate(ALPHA_METRICS):
                ax = axes[r, c]
                for k in labels:
                    for size in sizes:
                        rows = at[(at["label"] == k) & np.isclose(at["checkpoint_gb"], size)]
                        g = rows.groupby("alpha")[m].mean()
                        ax.plot(
                            g.index, g.values, ls=styles[size], marker=markers[k], ms=4,
                            color=colors[k], lw=1.1,
                        )  # fmt: skip
                ax.grid(True, lw=0.3, alpha=0.5)
                if c == 0:
                    ax.set_ylabel(header)
                if r == 0:
                    ax.set_title(f"bandwidth {fmt(bw)} Gbps")
                if r == 1:
                    ax.set_xlabel("alpha (share of the window)")
        policy_handles = [
            plt.Line2D([], [], color=colors[k], marker=markers[k], label=k) for k in labels
        ]
        size_handles = [
            plt.Line2D([], [], color="black", ls=styles[x], label=f"{fmt(x)} GB") for x in sizes
        ]
        fig.legend(
            handles=policy_handles, loc="upper left", bbox_to_anchor=(1.0, 0.9), title="policy"
        )
        fig.legend(
            handles=size_handles, loc="upper left", bbox_to_anchor=(1.0, 0.45), title="checkpoint"
        )
        fig.suptitle(
            f"Window fraction alpha on {instance_name} (energy_greedy ignores alpha: flat lines)",
            fontsize=9,
        )
        fig.tight_layout()
    return fig


def section_bandwidth(ctx: Context) -> dict[str, str]:
    """bandwidth.toml: bandwidth × checkpoint size × alpha × policy."""
    df = labelled(ctx.runs["bandwidth"].ok)
    instance_name = f"instances/{experiment_instance(ctx, 'bandwidth').name}"
    alpha = nearest(df["alpha"], ctx.params.alpha)
    sub = df[np.isclose(df["alpha"].astype(float), alpha)]
    sizes = sorted(sub["checkpoint_gb"].astype(float).unique())
    bws = sorted(sub["bandwidth_gbps"].astype(float).unique())
    labels = ordered_labels(sub["label"])
    fig_bw = ctx.figure(
        bandwidth_figure(sub, labels, instance_name, alpha), "sensitivity_bandwidth"
    )
    fig_alpha = ctx.figure(alpha_figure(df, labels, sizes, bws, instance_name), "sensitivity_alpha")
    alphas = sorted(df["alpha"].astype(float).unique())
    ctx.table(
        df.drop(columns=[c for c in df.columns if c in ("spec", "traceback")]), "sweep_bandwidth"
    )

    def cell(label: str, size: float, bw: float, m: str, a: float = alpha) -> float:
        rows = df[
            (df["label"] == label)
            & np.isclose(df["checkpoint_gb"], size)
            & np.isclose(df["bandwidth_gbps"], bw)
            & np.isclose(df["alpha"], a)
        ]
        return float(rows[m].mean()) if len(rows) else float("nan")

    big, small, thin, wide = sizes[-1], sizes[0], bws[0], bws[-1]
    eg, fg = "energy_greedy", "feasibility_greedy"
    ctx.facts.update(
        bw_thin_std_eg=cell(eg, big, thin, "slowdown_std"),
        bw_thin_std_fg=cell(fg, big, thin, "slowdown_std"),
        bw_thin_nre_eg=cell(eg, big, thin, "nre_kwh"),
        bw_thin_nre_fg=cell(fg, big, thin, "nre_kwh"),
        bw_thin_inf_eg=cell(eg, big, thin, "infeasible_migrations"),
        bw_thin_mig_eg=cell(eg, big, thin, "migrations"),
    )
    stable_cells = [
        (s, b)
        for s in sizes
        for b in bws
        if cell(fg, s, b, "slowdown_std") < cell(eg, s, b, "slowdown_std") - 1e-9
    ]
    ctx.facts["bw_fg_more_stable_cells"] = len(stable_cells)
    ctx.facts["bw_cells"] = len(sizes) * len(bws)
    thin_costly = compare_word(ctx.facts["bw_thin_std_eg"], cell(eg, big, wide, "slowdown_std"))
    return {
        "fig_bandwidth": fig_bw,
        "fig_alpha": fig_alpha,
        "bw_points": str(len(ctx.runs["bandwidth"].table)),
        "bw_instance": instance_name,
        "bw_file": ctx.runs["bandwidth"].sweep.path.name,
        "bw_alpha": fmt(alpha),
        "bw_sizes": num_list(sizes, "GB"),
        "bw_policies": num_list([f"`{k}`" for k in labels]),
        "bw_alphas": ", ".join(fmt(a) for a in alphas),
        "bw_bws": num_list(bws, "Gbps"),
        "bw_big": fmt(big),
        "bw_small": fmt(small),
        "bw_thin": fmt(thin),
        "bw_wide": fmt(wide),
        "bw_thin_inf_eg": fmt(ctx.facts["bw_thin_inf_eg"]),
        "bw_thin_mig_eg": fmt(ctx.facts["bw_thin_mig_eg"]),
        "bw_thin_mig_fg": fmt(cell(fg, big, thin, "migrations")),
        "bw_thin_std_eg": fmt(ctx.facts["bw_thin_std_eg"]),
        "bw_thin_std_fg": fmt(ctx.facts["bw_thin_std_fg"]),
        "bw_thin_p95_eg": fmt(cell(eg, big, thin, "slowdown_p95")),
        "bw_thin_p95_fg": fmt(cell(fg, big, thin, "slowdown_p95")),
        "bw_thin_nre_eg": fmt(ctx.facts["bw_thin_nre_eg"]),
        "bw_thin_nre_fg": fmt(ctx.facts["bw_thin_nre_fg"]),
        "bw_thin_nre_milp": fmt(cell("milp", big, thin, "nre_kwh")),
        "bw_wide_std_eg": fmt(cell(eg, big, wide, "slowdown_std")),
        "bw_thin_note": (
            ": thin links are what makes energy-driven moves costly in time."
            if thin_costly == "higher"
            else "."
        ),
        "bw_wide_std_fg": fmt(cell(fg, big, wide, "slowdown_std")),
        "bw_wide_nre_eg": fmt(cell(eg, small, wide, "nre_kwh")),
        "bw_wide_nre_fg": fmt(cell(fg, small, wide, "nre_kwh")),
        "bw_wide_nre_milp": fmt(cell("milp", small, wide, "nre_kwh")),
        "alpha_bw": fmt(thin),
        "alpha_lo": fmt(alphas[0]),
        "alpha_hi": fmt(alphas[-1]),
        "alpha_mig_fg_lo": fmt(cell(fg, big, thin, "migrations", alphas[0])),
        "alpha_mig_fg_hi": fmt(cell(fg, big, thin, "migrations", alphas[-1])),
        "alpha_nre_fg_lo": fmt(cell(fg, big, thin, "nre_kwh", alphas[0])),
        "alpha_nre_fg_hi": fmt(cell(fg, big, thin, "nre_kwh", alphas[-1])),
        "alpha_nre_milp_lo": fmt(cell("milp", big, thin, "nre_kwh", alphas[0])),
        "alpha_nre_milp_hi": fmt(cell("milp", big, thin, "nre_kwh", alphas[-1])),
    }
