"""Section 5, generated instances: every policy's metrics over seeds, and paired differences
(feasibility-aware minus energy-driven) on the same instance."""

from __future__ import annotations

import json
from functools import partial

import pandas as pd

from greenopt.paper.report import Context, fmt, labelled, md_table, num_list
from greenopt.paper.sections.summary import comparison_figure, summarise, summary_tables
from greenopt.paper.stats import mean_ci

#: Paired comparisons (feasibility-aware, energy-driven) on generated instances.
PAIRS = (
    ("feasibility_greedy", "energy_greedy"),
    ("milp", "milp (no filter)"),
    ("rolling (noisy)", "energy_greedy"),
    ("milp", "energy_greedy"),
)
PAIRED_METRICS = ("nre_kwh", "slowdown_std", "slowdown_p95", "infeasible_migrations")


def paired_differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Per pair (a, b) of :data:`PAIRS` and metric: mean ± 95 % CI over seeds of a − b on the same
    instance, and on how many instances a is lower (better) and higher."""
    frame = labelled(frame)
    rows = []
    for a, b in PAIRS:
        for m in PAIRED_METRICS:
            va = frame[frame["label"] == a].set_index("seed")[m].astype(float)
            vb = frame[frame["label"] == b].set_index("seed")[m].astype(float)
            d = (va - vb).dropna()
            est = mean_ci(d)
            rows.append(
                {
                    "a": a,
                    "b": b,
                    "metric": m,
                    "mean_diff": est.mean,
                    "ci95": est.half_width,
                    "n": est.n,
                    "a_lower": int((d < -1e-9).sum()),
                    "a_higher": int((d > 1e-9).sum()),
                    "formatted": est.format(3),
                    "significant": bool(est.n > 1 and (est.high < 0 or est.low > 0)),
                }
            )
    return pd.DataFrame(rows)


def paired_row(diffs: pd.DataFrame, a: str, b: str, metric: str) -> pd.Series:
    """The row of :func:`paired_differences` for a − b on ``metric``."""
    return diffs[(diffs["a"] == a) & (diffs["b"] == b) & (diffs["metric"] == metric)].iloc[0]


def section_generated(ctx: Context) -> dict[str, str]:
    run = ctx.runs["generated"]
    frame = run.ok
    summary = summarise(frame)
    csv, md = summary_tables(summary)
    ctx.table(csv, "compare_generated")
    gen = run.sweep.file.instance.generate or {}
    seeds = run.sweep.file.seed_list()
    fig = comparison_figure(
        summary,
        f"Generated instances ({gen.get('sites')} sites, {gen.get('jobs')} jobs, "
        f"{fmt(float(gen.get('days', 0)))} days; {len(seeds)} seeds): mean, 95 % CI, seeds as dots",
        per_seed=frame,
    )
    fig_path = ctx.figure(fig, "compare_generated")
    diffs = paired_differences(frame)
    ctx.table(diffs.drop(columns=["formatted"]), "paired_generated")
    md_diff = pd.DataFrame(
        {
            "a − b": [f"{a} − {b}" for a, b in zip(diffs["a"], diffs["b"], strict=True)],
            "metric": diffs["metric"],
            "mean ± 95 % CI": diffs["formatted"],
            "a lower / higher (of n)": [
                f"{lo} / {hi} (of {n})"
                for lo, hi, n in zip(diffs["a_lower"], diffs["a_higher"], diffs["n"], strict=True)
            ],
        }
    )
    ctx.facts["g_diffs"] = diffs

    pair = partial(paired_row, diffs)

    def diff(a: str, m: str) -> pd.Series:
        """a against the same policy without the feasibility filter."""
        b = {"feasibility_greedy": "energy_greedy", "milp": "milp (no filter)"}[a]
        return pair(a, b, m)

    n_inst = len(pd.unique(frame["seed"]))
    from greenopt.sweep.execute import build_instance

    specs = {
        json.dumps(spec["instance"], sort_keys=True): spec for spec in run.sweep.runs().values()
    }
    instances = [build_instance({**spec, "transform": {}}) for spec in specs.values()]
    bws = [lk.bandwidth_gbps for i in instances for lk in i.links]
    ckpts = [j.checkpoint_gb for i in instances for j in i.jobs]
    return {
        "gen_seed_list": num_list([str(x) for x in seeds]),
        "gen_bw_range": f"{fmt(min(bws))}–{fmt(max(bws))}",
        "gen_ckpt_range": f"{fmt(min(ckpts))}–{fmt(max(ckpts))}",
        "gen_sites": str(gen.get("sites")),
        "gen_jobs": str(gen.get("jobs")),
        "gen_days": fmt(float(gen.get("days", 0))),
        "gen_instances": str(n_inst),
        "fig_compare_generated": fig_path,
        "compare_generated_table": md_table(md),
        "paired_table": md_table(md_diff),
        "g_fg_nre": str(diff("feasibility_greedy", "nre_kwh")["formatted"]),
        "g_fg_std": str(diff("feasibility_greedy", "slowdown_std")["formatted"]),
        "g_fg_std_lower": str(diff("feasibility_greedy", "slowdown_std")["a_lower"]),
        "g_milp_nre": str(diff("milp", "nre_kwh")["formatted"]),
        "g_milp_std": str(diff("milp", "slowdown_std")["formatted"]),
        "g_milp_std_lower": str(diff("milp", "slowdown_std")["a_lower"]),
        "g_n": str(int(diff("milp", "nre_kwh")["n"])),
        "g_roll_nre": str(pair("rolling (noisy)", "energy_greedy", "nre_kwh")["formatted"]),
        "g_roll_nre_lower": str(pair("rolling (noisy)", "energy_greedy", "nre_kwh")["a_lower"]),
        "g_roll_std": str(pair("rolling (noisy)", "energy_greedy", "slowdown_std")["formatted"]),
        "g_roll_std_higher": str(
            pair("rolling (noisy)", "energy_greedy", "slowdown_std")["a_higher"]
        ),
        "g_milp_eg_nre": str(pair("milp", "energy_greedy", "nre_kwh")["formatted"]),
        "g_milp_eg_std": str(pair("milp", "energy_greedy", "slowdown_std")["formatted"]),
    }
