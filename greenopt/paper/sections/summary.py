"""Per-policy summaries of the trace-driven comparisons (Sections 4, 5 and 6.4): every metric as
mean ± 95 % CI over seeds, as tables and as a bar figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from greenopt.paper.report import (
    CLASS_COLORS,
    POLICY_CLASSES,
    STYLE,
    fmt,
    labelled,
    ordered_labels,
    pct,
)
from greenopt.paper.stats import Estimate, mean_ci

#: Metrics of the comparison tables: (column, table header, figure axis label with unit).
METRICS = (
    ("nre_kwh", "NRE (kWh)", "non-renewable energy (kWh)"),
    ("renewable_share", "renewable share", "renewable share (fraction)"),
    ("migrations", "migrations", "migrations (count)"),
    ("infeasible_migrations", "infeasible", "infeasible migrations (count)"),
    ("slowdown_mean", "slowdown mean", "mean slowdown (JCT / work, ×)"),
    ("slowdown_p95", "slowdown p95", "p95 slowdown (JCT / work, ×)"),
    ("slowdown_std", "slowdown std", "slowdown std (JCT / work, ×)"),
    ("unfinished_jobs", "unfinished", "unfinished jobs (count)"),
)
#: The metrics of the comparison figures.
FIGURE_METRICS = ("nre_kwh", "slowdown_std", "slowdown_p95", "infeasible_migrations")

Summary = dict[str, dict[str, Estimate]]


def summarise(frame: pd.DataFrame) -> Summary:
    """Per policy label: every metric (and ``model_gap``) as mean ± 95 % CI over the rows
    (seeds)."""
    frame = labelled(frame)
    out: Summary = {}
    for label in ordered_labels(frame["label"]):
        rows = frame[frame["label"] == label]
        est = {m: mean_ci(rows[m].astype(float)) for m, _, _ in METRICS}
        if "model_gap" in rows:
            est["model_gap"] = mean_ci(pd.to_numeric(rows["model_gap"], errors="coerce"))
        out[label] = est
    return out


def summary_tables(summary: Summary) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(CSV table with means, half-widths and n; Markdown table of formatted values)."""
    csv_rows, md_rows = [], []
    for label, est in summary.items():
        n = max(e.n for e in est.values())
        row = {"policy": label, "class": POLICY_CLASSES.get(label, ""), "n": n}
        md = {"policy": label, "class": POLICY_CLASSES.get(label, ""), "n": str(n)}
        for m, header, _ in METRICS:
            row[m] = est[m].mean
            row[f"{m}_ci95"] = est[m].half_width
            md[header] = est[m].format(3)
        gap = est.get("model_gap")
        row["model_gap"] = gap.mean if gap else np.nan
        md["MIP gap"] = pct(gap.mean, 1) if gap and gap.n else "–"
        csv_rows.append(row)
        md_rows.append(md)
    return pd.DataFrame(csv_rows), pd.DataFrame(md_rows)


def comparison_figure(
    summary: Summary,
    title: str,
    per_seed: pd.DataFrame | None = None,
    metrics: tuple[str, ...] = FIGURE_METRICS,
) -> plt.Figure:
    """Horizontal bars (mean, 95 % CI whiskers where n > 1) per policy, coloured by class; with
    ``per_seed`` the individual seeds as dots."""
    axis_label = {m: label for m, _, label in METRICS}
    labels = list(summary)
    seeds = labelled(per_seed) if per_seed is not None else None

    def seed_values(label: str, metric: str) -> pd.Series:
        return seeds.loc[seeds["label"] == label, metric].astype(float)

    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            1, len(metrics), figsize=(3.3 * len(metrics), 0.42 * len(labels) + 1.6)
        )
        for ax, m in zip(np.atleast_1d(axes), metrics, strict=True):
            y = np.arange(len(labels))
            means = [summary[k][m].mean for k in labels]
            colors = [CLASS_COLORS.get(POLICY_CLASSES.get(k, ""), "tab:blue") for k in labels]
            ax.barh(y, means, color=colors, alpha=0.85)
            for i, k in enumerate(labels):
                if summary[k][m].n > 1:
                    ax.errorbar(
                        means[i], i, xerr=summary[k][m].half_width, color="black", capsize=3
                    )
            if seeds is not None:
                for i, k in enumerate(labels):
                    vals = seed_values(k, m)
                    ax.scatter(vals, np.full(len(vals), i), s=9, color="black", zorder=3)
            ax.set_yticks(y, labels if ax is np.atleast_1d(axes)[0] else [""] * len(labels))
            ax.invert_yaxis()
            ax.set_xlabel(axis_label[m])
            ax.grid(True, axis="x", lw=0.3, alpha=0.5)
            if m.startswith("slowdown"):
                extents = []
                for k in labels:
                    e = summary[k][m]
                    ext = e.mean + (e.half_width if e.n > 1 else 0.0)
                    if seeds is not None:
                        ext = max([ext, *seed_values(k, m)])
                    extents.append(ext)
                clip_outliers(ax, means, extents)
        handles = [Patch(color=c, label=k) for k, c in CLASS_COLORS.items()]
        fig.legend(handles=handles, loc="lower center", ncols=3, bbox_to_anchor=(0.5, -0.02))
        fig.suptitle(title, fontsize=9)
        fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def clip_outliers(
    ax: plt.Axes, values: list[float], extents: list[float], factor: float = 3.0
) -> None:
    """If one bar is more than ``factor`` × the next largest, cut the axis just past what the other
    bars show (mean, CI whisker, seeds: ``extents``) and write the clipped value at the edge."""
    order = sorted((v, i) for i, v in enumerate(values) if np.isfinite(v))
    if len(order) < 2 or order[-2][0] <= 0 or order[-1][0] <= factor * order[-2][0]:
        return
    top = order[-1][1]
    limit = 1.15 * max(e for i, e in enumerate(extents) if i != top and np.isfinite(e))
    ax.set_xlim(min(0.0, ax.get_xlim()[0]), limit)
    ax.text(limit, top, f"{fmt(values[top])} →", ha="right", va="center", fontsize=7,
            color="white", fontweight="bold")  # fmt: skip
