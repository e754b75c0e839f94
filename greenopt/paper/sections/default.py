"""Section 4, the trace-driven comparison on ``instances/default``: every policy's metrics, and
why the greedy policies are as stable as they are (per-job delays by cause, the moves of
``energy_greedy`` judged on the actual traces)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from greenopt.data import profile_info
from greenopt.feasibility import (
    WindowTable,
    break_even_h,
    migration_energy_kwh,
    migration_time_s,
)
from greenopt.instance import Instance
from greenopt.network import Network
from greenopt.paper.report import POLICY_COLORS, STYLE, Context, fmt, labelled, md_table, pct
from greenopt.paper.sections.common import compare_word, experiment_instance
from greenopt.paper.sections.summary import (
    comparison_figure,
    summarise,
    summary_tables,
)
from greenopt.paper.stats import Estimate

#: Readable names of the delay parts of :func:`delay_breakdown`.
CAUSES = {
    "transit_h": "checkpoint transit",
    "gpu_wait_h": "waiting for a GPU",
    "other_h": "pauses or partly used slots",
}

#: The greedy policies whose delays are analysed (deterministic, re-run in seconds).
ANALYSED = ("static", "energy_greedy", "feasibility_greedy", "pause_greedy")

MOVE_COLUMNS = [
    "job_id",
    "src",
    "dst",
    "checkpoint_gb",
    "transfer_s",
    "window_h",
    "transfer_share_of_window",
    "reason",
]


def delay_breakdown(instance: Instance, result) -> pd.DataFrame:
    """Per job: slowdown, and its delay C − a − computed hours split into checkpoint transit,
    waiting at a site whose GPUs are all busy (contention, counted in whole slots strictly between
    the arrival and completion slots) and the rest (pauses, partly used slots)."""
    sim = result.simulation
    dt = instance.dt_h
    gpus_site = np.array([s.gpus for s in instance.sites], float)
    gpus_job = np.array([j.gpus for j in instance.jobs], float)
    busy = np.zeros((len(instance.sites), instance.n_slots))
    loc, run = sim.location, sim.run_fraction
    for j in range(len(instance.jobs)):
        at = loc[j] >= 0
        np.add.at(busy, (loc[j][at], np.flatnonzero(at)), gpus_job[j] * run[j][at])
    full = busy >= gpus_site[:, None] - 1e-9
    transit = result.schedule.migrations.groupby("job_id")["transfer_s"].sum() / 3600.0
    rows = []
    for j, job in enumerate(instance.jobs):
        c = float(sim.completion_h[j])
        delay = c - job.arrival_h - float(sim.computed_h[j])
        first, last = instance.arrival_slot(job), int(np.floor(c / dt - 1e-9))
        ts = np.arange(first + 1, max(first + 1, last))
        at = ts[loc[j, ts] >= 0]
        wait = float(((1 - run[j, at]) * full[loc[j, at], at]).sum() * dt)
        moving = float(transit.get(job.job_id, 0.0))
        rows.append(
            {
                "job_id": job.job_id,
                "slowdown": (c - job.arrival_h) / job.work_h,
                "delay_h": delay,
                "transit_h": moving,
                "gpu_wait_h": wait,
                "other_h": delay - moving - wait,
            }
        )
    return pd.DataFrame(rows)


def move_reasons(instance: Instance, result) -> pd.DataFrame:
    """Every migration of ``result`` judged on the actual traces at its arrival slot (SPEC §3),
    with which condition fails: ``feasible``, ``no window`` (W = 0 at arrival), ``time``,
    ``energy`` or ``both``."""
    p, dt = instance.params, instance.dt_h
    net = Network(instance)
    windows = WindowTable(instance).hours
    rows = []
    moves = result.schedule.migrations.reset_index(drop=True)
    for i, mv in moves.iterrows():
        j = instance.job_index[mv.job_id]
        job, dst = instance.jobs[j], instance.site_index[mv.dst]
        route = net.route(mv.src, mv.dst)
        t_mig = migration_time_s(p, job.checkpoint_gb, route)
        arrive = mv.depart_slot * dt + t_mig / 3600.0
        slot = int(mv.arrive_slot)
        w = float(windows[j, dst, slot])
        tau = arrive - slot * dt
        t_be = break_even_h(
            migration_energy_kwh(p, job.checkpoint_gb, t_mig), instance.sites[dst].pue, job.power_kw
        )
        time_ok = t_mig <= p.alpha * w * 3600 * (1 + 1e-9)
        energy_ok = t_be <= w - tau + 1e-9
        if w == 0:
            reason = "no window"
        else:
            reason = {(True, True): "feasible", (False, True): "time", (True, False): "energy"}.get(
                (time_ok, energy_ok), "both"
            )
        if (reason == "feasible") != bool(result.simulation.migration_feasible[i]):
            raise RuntimeError(f"move {i} of {mv.job_id}: reason disagrees with the simulator")
        rows.append(
            {
                "job_id": mv.job_id,
                "src": mv.src,
                "dst": mv.dst,
                "checkpoint_gb": job.checkpoint_gb,
                "transfer_s": t_mig,
                "window_h": w,
                "transfer_share_of_window": t_mig / (w * 3600) if w > 0 else np.inf,
                "reason": reason,
            }
        )
    return pd.DataFrame(rows, columns=MOVE_COLUMNS)


def site_kind(profile: str) -> str:
    """``SimBench PV``, ``TMY PV``, ``SimBench wind`` … for a bundled profile, else its name."""
    try:
        info = profile_info(profile.split("+")[0])
    except KeyError:
        return f"profile {profile}"
    source = "SimBench" if info.source == "simbench" else "TMY"
    return f"{source} {'PV' if info.kind == 'pv' else info.kind}"


def delay_summary(delays: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per policy: summed delay by cause, slowdown std with and without the slowest job and
    that job's main cause, indexed by policy; the same as a Markdown table)."""
    dec_rows, md_dec = [], []
    for name, d in delays.items():
        worst = d.loc[d["slowdown"].idxmax()]
        rest = d.drop(index=d["slowdown"].idxmax())
        causes = {k: float(worst[k]) for k in ("transit_h", "gpu_wait_h", "other_h")}
        row = {
            "policy": name,
            "delay_h": float(d["delay_h"].sum()),
            "transit_h": float(d["transit_h"].sum()),
            "gpu_wait_h": float(d["gpu_wait_h"].sum()),
            "other_h": float(d["other_h"].sum()),
            "slowdown_std": float(d["slowdown"].std(ddof=0)),
            "slowdown_std_without_worst": float(rest["slowdown"].std(ddof=0)),
            "worst_job": worst["job_id"],
            "worst_slowdown": float(worst["slowdown"]),
            "worst_cause": CAUSES[max(causes, key=causes.get)],
        }
        dec_rows.append(row)
        md_dec.append(
            {
                "policy": name,
                "total delay (h)": fmt(row["delay_h"]),
                "in transit (h)": fmt(row["transit_h"]),
                "waiting for a GPU (h)": fmt(row["gpu_wait_h"]),
                "other (h)": fmt(row["other_h"]),
                "slowdown std": fmt(row["slowdown_std"]),
                "std without slowest job": fmt(row["slowdown_std_without_worst"]),
                "slowest job (slowdown, main cause)": f"{row['worst_job']} "
                f"({fmt(row['worst_slowdown'])}, {row['worst_cause']})",
            }
        )
    return pd.DataFrame(dec_rows).set_index("policy"), pd.DataFrame(md_dec)


def delay_figure(name: str, delays: dict[str, pd.DataFrame], dec: pd.DataFrame) -> plt.Figure:
    """Left: per-job slowdown, slowest first; right: summed delay by cause per policy."""
    with plt.rc_context(STYLE):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.9))
        for policy in ANALYSED:
            s = np.sort(delays[policy]["slowdown"].to_numpy())[::-1]
            ax1.plot(
                np.arange(1, len(s) + 1),
                s,
                marker="o",
                ms=3,
                label=policy,
                color=POLICY_COLORS.get(policy, "black"),
            )
        top = max(float(d["slowdown"].max()) for d in delays.values())
        if top > 3:
            ax1.set_yscale("log")
            ax1.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
            ax1.yaxis.set_minor_formatter(plt.FuncFormatter(lambda v, _: ""))
        ax1.set_xlabel("job rank (slowest first)")
        ax1.set_ylabel("slowdown (JCT / work, ×)")
        ax1.legend()
        ax1.grid(True, which="both", lw=0.3, alpha=0.5)
        shown = [k for k in ANALYSED if k != "pause_greedy"]  # its delay is pausing, by design
        bottom = np.zeros(len(shown))
        parts = (
            ("transit_h", "in transit"),
            ("gpu_wait_h", "waiting for a GPU"),
            ("other_h", "other (pauses, partial slots)"),
        )
        for (col, lab), color in zip(parts, ("tab:blue", "tab:red", "khaki"), strict=True):
            vals = dec.loc[shown, col].to_numpy()
            ax2.bar(shown, vals, bottom=bottom, label=lab, color=color)
            bottom += vals
        ax2.set_ylabel("summed job delay (h)")
        ax2.set_title("Summed delay by cause (pause_greedy, which pauses by design: Table 7)")
        ax2.tick_params(axis="x", rotation=15)
        ax2.legend()
        fig.suptitle(f"Where the delay of each greedy policy comes from ({name})", fontsize=9)
        fig.tight_layout()
    return fig


def milp_filter_note(frame: pd.DataFrame) -> str:
    """What the feasibility filter does to the offline MILP on the default instance."""
    rows = labelled(frame).set_index("label")
    if "milp" not in rows.index or "milp (no filter)" not in rows.index:
        return ""
    a, b = rows.loc["milp"], rows.loc["milp (no filter)"]
    obj = "info.objective_recomputed"
    text = (
        f"Both offline MILPs end with gaps of {pct(float(a['model_gap']), 2)} "
        "(with the filter) and "
        f"{pct(float(b['model_gap']), 2)} (without; "
        f"{fmt(float(b['info.n_binaries']))} binaries against {fmt(float(a['info.n_binaries']))}). "
        "Without the filter the model holds more moves; the two restricted models are not "
        "nested exactly (each also holds the moves of its own warm start), so a lower optimum "
        "without the filter is observed here, not guaranteed: "
    )
    word = compare_word(float(b[obj]), float(a[obj]), 0.0)
    text += (
        f"its objective is {word}, {fmt(float(b[obj]))} against {fmt(float(a[obj]))} "
        "(NRE plus the priced delay, kWh), and its NRE "
        f"{fmt(float(b['nre_kwh']))} against {fmt(float(a['nre_kwh']))} kWh. A planner that sees "
        "the actual traces and prices transfer time and energy exactly gains nothing from the "
        "filter; the filter can pay only under imperfect information, or for costs the "
        "objective does not price."
    )
    return text


def why_default(ctx: Context, inst: Instance, dec: pd.DataFrame, reasons: pd.DataFrame) -> str:
    """The paragraph explaining the stability of the greedy policies, stated from the numbers."""
    eg, fg = dec.loc["energy_greedy"], dec.loc["feasibility_greedy"]
    text = [
        f"`energy_greedy` spends {fmt(eg['transit_h'])} h in transit in all and "
        f"`feasibility_greedy` {fmt(fg['transit_h'])} h."
    ]
    wait = compare_word(fg["gpu_wait_h"], eg["gpu_wait_h"])
    if wait == "higher":
        text.append(
            f"`feasibility_greedy` waits {fmt(fg['gpu_wait_h'])} h for busy GPUs against "
            f"{fmt(eg['gpu_wait_h'])} h: it sends jobs to the sites whose windows cover most of "
            "their remaining work, and there they queue for GPUs."
        )
    else:
        text.append(
            f"Waiting for busy GPUs: {fmt(fg['gpu_wait_h'])} h (`feasibility_greedy`) against "
            f"{fmt(eg['gpu_wait_h'])} h (`energy_greedy`)."
        )
    text.append(
        f"The slowest job of `feasibility_greedy`, {fg['worst_job']} (slowdown "
        f"{fmt(fg['worst_slowdown'])}), lost most of its time to "
        f"{fg['worst_cause']}; without it the std would be "
        f"{fmt(fg['slowdown_std_without_worst'])} (`energy_greedy` without its slowest job: "
        f"{fmt(eg['slowdown_std_without_worst'])})."
    )
    counts = reasons["reason"].value_counts()
    bad = int((reasons["reason"] != "feasible").sum())
    text.append(
        f"Moves of `energy_greedy` infeasible on the actual traces: {bad} of {len(reasons)} "
        f"(landing where there is no window: {int(counts.get('no window', 0))}; violating the "
        f"time condition: {int(counts.get('time', 0) + counts.get('both', 0))}; only the energy "
        f"condition: {int(counts.get('energy', 0))}; "
        "[`tables/moves_energy_greedy_default.csv`](tables/moves_energy_greedy_default.csv))."
    )
    text.append(
        "The MILPs weigh slowdown against energy at the instance's slowdown weight "
        f"w = {fmt(inst.params.slowdown_weight)}: the flow delay term charges w kWh per hour of "
        "delay times the job's work left over its work_h, so delaying a job at its start costs "
        "about w·work_h per unit of slowdown it adds, less later (Section 6.4)."
    )
    ctx.facts.update(
        eg_transit=float(eg["transit_h"]),
        fg_gpu_wait=float(fg["gpu_wait_h"]),
        eg_gpu_wait=float(eg["gpu_wait_h"]),
    )
    return " ".join(text)


def section_default(ctx: Context) -> dict[str, str]:
    from greenopt.policies import make_policy
    from greenopt.runner import run_policy

    frame = pd.concat([ctx.runs["default"].ok, ctx.runs["noisy"].ok], ignore_index=True)
    summary = summarise(frame)
    csv, md = summary_tables(summary)
    ctx.table(csv, "compare_default")
    inst = experiment_instance(ctx, "default")
    fig = comparison_figure(
        summary,
        f"{inst.name}: {len(inst.sites)} sites, {len(inst.jobs)} jobs, "
        f"{fmt(inst.params.horizon_h)} h (bars: mean; whiskers: 95 % CI over seeds)",
        per_seed=ctx.runs["noisy"].ok,
    )
    fig_path = ctx.figure(fig, "compare_default")

    # why: per-job delays of the greedy policies (deterministic, re-run here in seconds)
    runs = {name: run_policy(inst, make_policy(name)) for name in ANALYSED}
    delays = {name: delay_breakdown(inst, r) for name, r in runs.items()}
    long = pd.concat([d.assign(policy=name) for name, d in delays.items()], ignore_index=True)
    ctx.table(long, "delays_default")
    dec, md_dec = delay_summary(delays)
    ctx.table(dec.reset_index(), "delay_summary_default")
    delay_fig = ctx.figure(delay_figure(inst.name, delays, dec), "delays_default")

    reasons = move_reasons(inst, runs["energy_greedy"])
    ctx.table(reasons, "moves_energy_greedy_default")
    counts = reasons["reason"].value_counts()
    infeasible = int((reasons["reason"] != "feasible").sum())

    def val(label: str, metric: str) -> float:
        return summary[label][metric].mean if label in summary else float("nan")

    eg, fg = "energy_greedy", "feasibility_greedy"
    ctx.facts.update(
        d_summary=summary,
        d_nre={k: v["nre_kwh"].mean for k, v in summary.items()},
        d_std={k: v["slowdown_std"].mean for k, v in summary.items()},
    )
    groups: dict[str, int] = {}
    for site in inst.sites:
        name = site_kind(site.profile)
        groups[name] = groups.get(name, 0) + 1
    bw = [lk.bandwidth_gbps for lk in inst.links]
    ckpt = [j.checkpoint_gb for j in inst.jobs]
    why = why_default(ctx, inst, dec, reasons)
    note = milp_filter_note(ctx.runs["default"].ok)
    return {
        "default_sites_text": ", ".join(f"{n} {k}" for k, n in groups.items()),
        "default_bw_range": f"{fmt(min(bw))}–{fmt(max(bw))}",
        "default_ckpt_range": f"{fmt(min(ckpt))}–{fmt(max(ckpt))}",
        "default_slot_min": fmt(inst.params.slot_minutes),
        "why_default_text": why,
        "milp_filter_text": note,
        "default_sites": str(len(inst.sites)),
        "default_jobs": str(len(inst.jobs)),
        "default_horizon": fmt(inst.params.horizon_h),
        "default_links": str(len(inst.links)),
        "noisy_seeds": str(len(ctx.runs["noisy"].sweep.file.seed_list())),
        "fig_compare_default": fig_path,
        "compare_default_table": md_table(md),
        "d_nre_static": fmt(val("static", "nre_kwh")),
        "d_nre_eg": fmt(val(eg, "nre_kwh")),
        "d_nre_fg": fmt(val(fg, "nre_kwh")),
        "d_nre_milp": fmt(val("milp", "nre_kwh")),
        "d_nre_milp_nf": fmt(val("milp (no filter)", "nre_kwh")),
        "d_nre_rolling": summary.get("rolling (noisy)", {})
        .get("nre_kwh", Estimate(np.nan, np.nan, 0))
        .format(3),
        "d_std_eg": fmt(val(eg, "slowdown_std")),
        "d_std_fg": fmt(val(fg, "slowdown_std")),
        "d_std_milp": fmt(val("milp", "slowdown_std")),
        "d_std_milp_nf": fmt(val("milp (no filter)", "slowdown_std")),
        "d_p95_eg": fmt(val(eg, "slowdown_p95")),
        "d_p95_fg": fmt(val(fg, "slowdown_p95")),
        "d_mig_eg": fmt(val(eg, "migrations")),
        "d_mig_fg": fmt(val(fg, "migrations")),
        "d_inf_eg": fmt(val(eg, "infeasible_migrations")),
        "d_inf_milp_nf": fmt(val("milp (no filter)", "infeasible_migrations")),
        "d_inf_fg": fmt(val(fg, "infeasible_migrations")),
        "d_mig_milp_nf": fmt(val("milp (no filter)", "migrations")),
        "fig_delays_default": delay_fig,
        "default_name": inst.name,
        "delay_table": md_table(md_dec),
        "eg_infeasible": str(infeasible),
        "eg_no_window": str(int(counts.get("no window", 0))),
        "eg_time": str(int(counts.get("time", 0) + counts.get("both", 0))),
    }
