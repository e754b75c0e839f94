"""Figures (matplotlib, Agg backend): the feasibility domain and per-run views."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from greenopt.feasibility import max_checkpoint_gb  # noqa: E402
from greenopt.instance import Parameters  # noqa: E402

#: Model classes placed on the domain figure: (label, checkpoint GB).
MODEL_CLASSES = (
    ("ResNet-50", 1.0),
    ("LoRA fine-tune", 5.0),
    ("7B full fine-tune", 110.0),
    ("13B full fine-tune", 200.0),
)


def save(fig: plt.Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=130, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
    return path


def plot_feasibility_domain(
    params: Parameters,
    windows_h: list[float],
    bandwidth_range: tuple[float, float] = (1.0, 100.0),
    size_range: tuple[float, float] = (1.0, 1000.0),
    latency_ms: float = 0.0,
    path: str | Path | None = None,
) -> plt.Figure:
    """Checkpoint size against bandwidth (log axes), one frontier S_max(B, W) per window length:
    moves below a frontier fit within alpha of a window of that length."""
    bandwidths = np.logspace(np.log10(bandwidth_range[0]), np.log10(bandwidth_range[1]), 200)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for w in sorted(windows_h, reverse=True):
        smax = [max_checkpoint_gb(params, b, w, latency_ms) for b in bandwidths]
        ax.plot(bandwidths, smax, label=f"W = {w:g} h")
        ax.fill_between(bandwidths, size_range[0], smax, alpha=0.08)
    for label, gb in MODEL_CLASSES:
        ax.axhline(gb, color="grey", lw=0.6, ls=":")
        ax.text(bandwidth_range[0] * 1.05, gb * 1.08, label, fontsize=7, color="dimgrey")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*bandwidth_range)
    ax.set_ylim(*size_range)
    ax.set_xlabel("WAN bottleneck bandwidth B (Gbps)")
    ax.set_ylabel("checkpoint size S (GB)")
    ax.set_title(
        f"Feasible migrations: T_mig ≤ {params.alpha:g}·W "
        f"(overhead {params.checkpoint_overhead_s:g} s, efficiency {params.link_efficiency:g})",
        fontsize=9,
    )
    ax.legend(title="feasible below", fontsize=8)
    ax.grid(True, which="both", lw=0.3, alpha=0.5)
    if path is not None:
        save(fig, path)
    return fig


def plot_site_power(instance, result, path: str | Path) -> Path:
    """Per-site stacked power over time: renewable used and grid, with curtailed renewable on top
    (from the simulator's per-site arrays)."""
    sim = result.simulation
    hours = np.arange(instance.n_slots) * instance.dt_h
    n = len(instance.sites)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 2.4 * rows), sharex=True, squeeze=False
    )
    for i, site in enumerate(instance.sites):
        ax = axes.flat[i]
        used, grid = sim.renewable_used_kw[i], sim.grid_kw[i]
        curtailed = sim.renewable_kw[i] - used
        ax.stackplot(
            hours,
            used,
            grid,
            curtailed,
            step="post",
            colors=("tab:green", "tab:grey", "palegreen"),
            labels=("renewable used", "grid", "curtailed"),
        )
        ax.set_title(site.site_id, fontsize=9)
        ax.set_ylabel("power (kW)", fontsize=8)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("time (h)", fontsize=8)
    axes.flat[0].legend(fontsize=7, loc="upper right")
    fig.suptitle(f"Site power under {result.policy}", fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def plot_gantt(instance, result, path: str | Path) -> Path:
    """Job Gantt chart: one row per job, coloured by the site computing it (faint while paused
    there), migrations as arrows from departure to arrival."""
    frame = result.schedule.assignment
    sites = [s.site_id for s in instance.sites]
    colors = {s: plt.cm.tab10(i % 10) for i, s in enumerate(sites)}
    jobs = [j.job_id for j in instance.jobs]
    row_of = {j: i for i, j in enumerate(jobs)}
    dt = instance.dt_h
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.22 * len(jobs) + 1)))
    frame = frame[frame["site"].map(lambda s: isinstance(s, str) and s != "")]
    frame = frame.sort_values(["job_id", "slot"])
    running = frame["run_fraction"].to_numpy() > 1e-9
    # one bar per run of consecutive slots with the same job, site and running state
    key = list(zip(frame["job_id"], frame["site"], running, strict=True))
    slots = frame["slot"].to_numpy()
    first = 0
    for i in range(1, len(key) + 1):
        if i < len(key) and key[i] == key[i - 1] and slots[i] == slots[i - 1] + 1:
            continue
        job_id, site, is_running = key[first]
        width = (slots[i - 1] + 1 - slots[first]) * dt
        alpha = 0.9 if is_running else 0.15
        ax.barh(
            row_of[job_id],
            width,
            left=slots[first] * dt,
            height=0.8,
            color=colors[site],
            alpha=alpha,
            lw=0,
        )
        first = i
    for mig in result.schedule.migrations.itertuples(index=False):
        y = row_of[mig.job_id]
        start = mig.depart_slot * dt
        ax.annotate(
            "",
            xy=(start + mig.transfer_s / 3600, y),
            xytext=(start, y),
            arrowprops={"arrowstyle": "->", "color": "black", "lw": 0.8},
        )
        ax.plot(start, y, marker="|", color="black", ms=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[s]) for s in sites]
    ax.legend(handles, sites, fontsize=7, ncols=min(len(sites), 6), loc="upper right")
    ax.set_yticks(range(len(jobs)), jobs, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlim(0, instance.params.horizon_h)
    ax.set_xlabel("time (h)")
    ax.set_title(
        f"Jobs under {result.policy} (faint: waiting; | and arrows: migrations)", fontsize=10
    )
    return save(fig, path)


def plot_policy_bars(table, path: str | Path) -> Path:
    """Bars of non-renewable energy and p95 slowdown per policy."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    labels = [str(x) for x in table.index]
    for ax, metric, unit in zip(axes, ("nre_kwh", "slowdown_p95"), ("kWh", "×"), strict=True):
        ax.bar(labels, table[metric].astype(float), color="tab:blue")
        ax.set_ylabel(f"{metric} ({unit})")
        ax.tick_params(axis="x", rotation=30, labelsize=7)
        ax.set_title(metric, fontsize=9)
    fig.tight_layout()
    return save(fig, path)
