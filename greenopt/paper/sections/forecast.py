"""Section 6.3, forecast error (``paper_forecast.toml``): the rolling-horizon MILP on noisy
forecasts, per forecast error and lookahead, mean ± 95 % CI over seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from greenopt.paper.report import STYLE, Context, fmt, num_list
from greenopt.paper.sections.common import mean_ci_columns
from greenopt.paper.stats import Estimate

#: Panels of the figure: (metric, axis label).
FORECAST_METRICS = (
    ("nre_kwh", "NRE (kWh)"),
    ("slowdown_std", "slowdown std (×)"),
    ("infeasible_migrations", "infeasible migrations"),
)


def forecast_figure(table: pd.DataFrame, looks: list[float]) -> plt.Figure:
    """Each metric against forecast error, one line per lookahead, 95 % CI whiskers."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
        for ax, (m, header) in zip(axes, FORECAST_METRICS, strict=True):
            for i, look in enumerate(looks):
                t = table[np.isclose(table["lookahead_h"], look)]
                err = np.nan_to_num(t[f"{m}_ci95"].to_numpy())
                ax.errorbar(
                    t["forecast_error"] + 0.004 * (i - 1),
                    t[m],
                    yerr=err,
                    marker="o",
                    capsize=3,
                    label=f"lookahead {fmt(look)} h",
                )
            ax.set_xlabel("forecast error (relative std at 24 h lead)")
            ax.set_ylabel(header)
            ax.grid(True, lw=0.3, alpha=0.5)
        axes[0].legend()
        n = int(table["n"].max())
        fig.suptitle(
            f"Rolling-horizon MILP on noisy forecasts (mean, 95 % CI over {n} seeds)", fontsize=9
        )
        fig.tight_layout()
    return fig


def section_forecast(ctx: Context) -> dict[str, str]:
    """forecast.toml: forecast error × lookahead of the rolling MILP, mean ± CI over seeds."""
    run = ctx.runs["forecast"]
    df = run.ok
    errors = sorted(df["forecast_error"].astype(float).unique())
    looks = sorted(df["lookahead_h"].astype(float).unique())
    metrics = [m for m, _ in FORECAST_METRICS]
    rows = []
    for look in looks:
        for err in errors:
            sel = df[np.isclose(df["lookahead_h"], look) & np.isclose(df["forecast_error"], err)]
            rows.append(
                {"lookahead_h": look, "forecast_error": err} | mean_ci_columns(sel, metrics)
            )
    table = pd.DataFrame(rows)
    ctx.table(table, "forecast")
    fig_path = ctx.figure(forecast_figure(table, looks), "sensitivity_forecast")
    best_look = looks[-1]
    t = table[np.isclose(table["lookahead_h"], best_look)].set_index("forecast_error")
    short = table[np.isclose(table["lookahead_h"], looks[0])].set_index("forecast_error")
    settings = run.sweep.file.policy.settings
    return {
        "fig_forecast": fig_path,
        "fc_file": run.sweep.path.name,
        "fc_errors": num_list(errors),
        "fc_looks": num_list(looks, "h"),
        "fc_seeds": str(int(table["n"].max())),
        "fc_step": fmt(float(settings.get("step_h", np.nan))),
        "fc_limit": fmt(float(settings.get("time_limit_s", np.nan))),
        "fc_look": fmt(best_look),
        "fc_err_lo": fmt(errors[0]),
        "fc_err_hi": fmt(errors[-1]),
        "fc_nre_lo": fmt(float(t.loc[errors[0], "nre_kwh"])),
        "fc_nre_hi": Estimate(
            float(t.loc[errors[-1], "nre_kwh"]),
            float(t.loc[errors[-1], "nre_kwh_ci95"]),
            int(t.loc[errors[-1], "n"]),
        ).format(3),
        "fc_inf_hi": fmt(float(t.loc[errors[-1], "infeasible_migrations"])),
        "fc_short_look": fmt(looks[0]),
        "fc_nre_short_lo": fmt(float(short.loc[errors[0], "nre_kwh"])),
    }
