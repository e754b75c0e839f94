"""Section 6.4, the energy–performance trade-off (``slowdown.toml``): the offline MILP's NRE
against its mean slowdown as the slowdown weight grows, the heuristics for reference."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from greenopt.paper.report import POLICY_COLORS, STYLE, Context, fmt, num_list
from greenopt.paper.sections.common import compare_word, mean_ci_columns
from greenopt.paper.sections.summary import Summary, summarise

TRADEOFF_METRICS = ("nre_kwh", "slowdown_mean", "slowdown_p95", "slowdown_std", "migrations")
#: How a value moves from the lowest to the highest weight.
TREND = {"higher": "rises", "lower": "falls"}


def close_groups(table: pd.DataFrame, rel: float = 0.03) -> dict[tuple[float, float], list]:
    """Weights whose (slowdown, NRE) points lie within ``rel`` of each other, keyed by the first
    point of each group (so that one label serves points drawn on top of each other)."""
    groups: dict[tuple[float, float], list] = {}
    for _, r in table.iterrows():
        x, y = float(r["slowdown_mean"]), float(r["nre_kwh"])
        for gx, gy in groups:
            if abs(x - gx) <= rel * abs(gx) and abs(y - gy) <= rel * abs(gy):
                groups[(gx, gy)].append(float(r["slowdown_weight"]))
                break
        else:
            groups[(x, y)] = [float(r["slowdown_weight"])]
    return groups


def tradeoff_figure(table: pd.DataFrame, heuristics: Summary) -> plt.Figure:
    """NRE against mean slowdown per weight (labelled), the heuristics as squares."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.6, 4.4))
        ax.errorbar(
            table["slowdown_mean"],
            table["nre_kwh"],
            xerr=np.nan_to_num(table["slowdown_mean_ci95"].to_numpy()),
            yerr=np.nan_to_num(table["nre_kwh_ci95"].to_numpy()),
            marker="o",
            color=POLICY_COLORS["milp"],
            capsize=3,
            label="milp, slowdown weight w",
        )
        for (x, y), ws in close_groups(table).items():
            ax.annotate(
                "w = " + ", ".join(fmt(w) for w in ws),
                (x, y),
                textcoords="offset points",
                xytext=(6, 5),
                fontsize=7,
            )
        for k, est in heuristics.items():
            if k.startswith("milp"):
                continue
            color = POLICY_COLORS.get(k, "black")
            ax.scatter(
                est["slowdown_mean"].mean,
                est["nre_kwh"].mean,
                marker="s",
                color=color,
                zorder=3,
                label=k,
            )
        ax.set_xscale("log")
        ax.set_xlabel("mean slowdown (JCT / work, ×), log scale")
        ax.set_ylabel("non-renewable energy NRE (kWh)")
        ax.set_title(
            "Energy–performance trade-off (squares: heuristics, same instance)", fontsize=9
        )
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.legend(fontsize=7)
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    return fig


def section_tradeoff(ctx: Context) -> dict[str, str]:
    """slowdown.toml: the MILP's slowdown weight, energy against slowdown."""
    df = ctx.runs["slowdown"].ok
    weights = sorted(df["slowdown_weight"].astype(float).unique())
    rows = [
        {"slowdown_weight": w}
        | mean_ci_columns(df[np.isclose(df["slowdown_weight"], w)], TRADEOFF_METRICS)
        for w in weights
    ]
    table = pd.DataFrame(rows)
    ctx.table(table, "tradeoff")
    heuristics = summarise(ctx.runs["default"].ok)
    fig_path = ctx.figure(tradeoff_figure(table, heuristics), "tradeoff")
    lo, hi = table.iloc[0], table.iloc[-1]

    def trend(m: str) -> str:
        return TREND.get(compare_word(float(hi[m]), float(lo[m])), "stays about the same")

    nre_word, sd_word = trend("nre_kwh"), trend("slowdown_mean")
    text = (
        f"From weight {fmt(float(lo['slowdown_weight']))} to {fmt(float(hi['slowdown_weight']))}, "
        f"NRE {nre_word} from {fmt(float(lo['nre_kwh']))} to {fmt(float(hi['nre_kwh']))} kWh and "
        f"the mean slowdown {sd_word} from {fmt(float(lo['slowdown_mean']))} to "
        f"{fmt(float(hi['slowdown_mean']))} (std {fmt(float(lo['slowdown_std']))} → "
        f"{fmt(float(hi['slowdown_std']))})."
    )
    if nre_word == "rises" and sd_word == "falls":
        text += " Performance is bought with energy; the weight sets where the MILP sits."
    ctx.facts.update(
        to_w=(float(lo["slowdown_weight"]), float(hi["slowdown_weight"])),
        to_std=(float(lo["slowdown_std"]), float(hi["slowdown_std"])),
    )
    return {
        "fig_tradeoff": fig_path,
        "tradeoff_text": text,
        "to_file": ctx.runs["slowdown"].sweep.path.name,
        "to_weights": num_list(weights),
        "to_seeds": str(int(table["n"].max())),
    }
