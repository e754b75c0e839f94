"""Figures (matplotlib, Agg backend): the feasibility domain and per-run views."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

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


#: Readable names of the registered policies, for figure labels.
POLICY_NAMES = {
    "static": "static",
    "energy_greedy": "energy greedy",
    "feasibility_greedy": "feasibility greedy",
    "pause_greedy": "pause greedy",
    "milp": "offline MILP",
    "rolling": "rolling MILP",
}


def readable_policy(label: str) -> str:
    """A compare label (``name`` or ``name:key=value:...``) as a figure label:
    ``rolling:forecast=noisy:feasibility_filter=false`` → ``rolling MILP (noisy forecast, no
    filter)``."""
    name, *pairs = str(label).split(":")
    parts = []
    for pair in pairs:
        key, _, value = (x.strip() for x in pair.partition("="))
        if key == "feasibility_filter":
            parts.append("filter" if value.lower() in ("true", "1", "yes", "on") else "no filter")
        elif key == "forecast":
            parts.append(f"{value} forecast")
        else:
            parts.append(f"{key.replace('_', ' ')} {value}")
    text = POLICY_NAMES.get(name.strip(), name.strip())
    return f"{text} ({', '.join(parts)})" if parts else text


def _label_offsets() -> list[tuple[float, float, str, str]]:
    """Offsets (points) tried around a point, nearest first: (dx, dy, ha, va), on rings of
    growing radius at 16 angles, the text anchored on the side facing the point."""
    out = []
    for radius in (7, 14, 24, 38, 56, 80, 110):
        for k in range(16):
            angle = np.pi / 4 + 2 * np.pi * k / 16  # upper right first
            dx, dy = radius * np.cos(angle), radius * np.sin(angle)
            ha = "left" if dx > 1e-6 else "right" if dx < -1e-6 else "center"
            va = "bottom" if dy > 1e-6 else "top" if dy < -1e-6 else "center"
            out.append((float(dx), float(dy), ha, va))
    return out


_LABEL_OFFSETS = _label_offsets()
_LEADER = {"arrowstyle": "-", "lw": 0.6, "alpha": 0.7, "shrinkA": 0, "shrinkB": 3}


def place_labels(
    ax: plt.Axes,
    xs,
    ys,
    labels: list[str],
    colors: list | None = None,
    obstacles: list | None = None,
    fontsize: float = 8,
) -> list:
    """Label each point (x, y) of ``ax`` beside it (in the point's colour), trying offsets nearest
    first and keeping the first whose text lies inside the axes without overlapping a placed
    label, another point or an ``obstacles`` box (display coordinates); when none is free, the
    one overlapping least. Labels away from their point get a leader line. Returns the texts."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    points = ax.transData.transform(np.column_stack([xs, ys]))
    pad = 3.0  # display pixels around each marker
    markers = [
        matplotlib.transforms.Bbox.from_extents(x - pad, y - pad, x + pad, y + pad)
        for x, y in points
    ]
    placed: list = list(obstacles or [])
    texts = []
    colors = colors if colors is not None else ["black"] * len(labels)
    for i, (x, y, label) in enumerate(zip(xs, ys, labels, strict=True)):
        best = None
        for dx, dy, ha, va in _LABEL_OFFSETS:
            text = ax.annotate(
                label,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=fontsize,
                color=colors[i],
                # far from its point: a leader line shows whose label it is
                arrowprops={**_LEADER, "color": colors[i]} if max(abs(dx), abs(dy)) > 12 else None,
            )
            # the text alone (an Annotation's own extent includes its leader line)
            text.update_positions(renderer)
            box = matplotlib.text.Text.get_window_extent(text, renderer).expanded(1.05, 1.1)
            others = placed + [m for k, m in enumerate(markers) if k != i]
            overlap = sum(_overlap_area(box, o) for o in others)
            outside = box.width * box.height - _overlap_area(box, frame)
            cost = overlap + 100 * outside
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, text, box)
            else:
                text.remove()
            if cost == 0:
                break
        cost, text, box = best
        placed.append(box)
        texts.append(text)
    return texts


def crowded_points(ax: plt.Axes, xs, ys, distance_px: float = 24.0) -> list[int]:
    """Indices of the largest group of points of ``ax`` chained by display distances below
    ``distance_px`` (too close to label one by one), or [] when no two points are that close."""
    points = ax.transData.transform(np.column_stack([xs, ys]))
    group = list(range(len(points)))  # union-find parents

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i in range(len(points)):
        for k in range(i + 1, len(points)):
            if np.hypot(*(points[i] - points[k])) < distance_px:
                group[root(i)] = root(k)
    members: dict[int, list[int]] = {}
    for i in range(len(points)):
        members.setdefault(root(i), []).append(i)
    largest = max(members.values(), key=len, default=[])
    return largest if len(largest) > 1 else []


def _zoom_inset(ax: plt.Axes, xs, ys, colors, crowd: list[int]) -> plt.Axes:
    """An inset of ``ax`` magnifying the points ``crowd``, in the corner hiding the fewest other
    points, linked to the zoomed region."""
    x, y = np.asarray(xs)[crowd], np.asarray(ys)[crowd]
    limits = []
    for values, share in ((x, 0.7), (y, 0.3)):  # wide sides: room for labels left and right
        low, high = float(values.min()), float(values.max())
        pad = share * (high - low) or 0.02 * max(abs(high), 1e-3)
        limits.append((max(0.0, low - pad), high + pad))
    others = np.setdiff1d(np.arange(len(xs)), crowd)
    frame = ax.transAxes.inverted().transform(ax.transData.transform(np.column_stack([xs, ys])))
    size = 0.5
    corners = [(0.48, 0.48), (0.48, 0.04), (0.04, 0.48), (0.04, 0.04)]

    def hidden(corner):
        inside = (
            (frame[:, 0] > corner[0] - 0.03)
            & (frame[:, 0] < corner[0] + size + 0.03)
            & (frame[:, 1] > corner[1] - 0.03)
            & (frame[:, 1] < corner[1] + size + 0.03)
        )
        # points of the crowd under the inset hide the region it magnifies: worse than others
        return int(inside[others].sum()) + 10 * int(inside[crowd].sum())

    corner = min(corners, key=hidden)
    inset = ax.inset_axes([corner[0], corner[1], size, size])
    inset.scatter(x, y, c=[colors[i] for i in crowd], s=30, zorder=3)
    inset.set_xlim(*limits[0])
    inset.set_ylim(*limits[1])
    inset.tick_params(labelsize=7)
    for axis in (inset.xaxis, inset.yaxis):
        axis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
    inset.grid(True, lw=0.3, alpha=0.5)
    ax.indicate_inset_zoom(inset, edgecolor="grey", alpha=0.6)
    return inset


def _label_panel(ax: plt.Axes, xs, ys, names: list[str], colors: list) -> None:
    """Label every point of a trade-off panel; points too close together are labelled in a
    zoomed inset instead."""
    crowd = crowded_points(ax, xs, ys)
    obstacles = []
    if crowd:
        inset = _zoom_inset(ax, xs, ys, colors, crowd)
        ax.figure.canvas.draw()
        place_labels(
            inset,
            np.asarray(xs)[crowd],
            np.asarray(ys)[crowd],
            [names[i] for i in crowd],
            [colors[i] for i in crowd],
            fontsize=7,
        )
        obstacles.append(inset.get_tightbbox(ax.figure.canvas.get_renderer()))
    rest = [i for i in range(len(names)) if i not in crowd]
    place_labels(
        ax,
        np.asarray(xs)[rest],
        np.asarray(ys)[rest],
        [names[i] for i in rest],
        [colors[i] for i in rest],
        obstacles,
    )


def _overlap_area(a, b) -> float:
    """Area (display pixels²) shared by two bounding boxes."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, w) * max(0.0, h)


def _floor_at_zero(ax: plt.Axes, axis: str) -> None:
    """Keep an axis of a quantity that cannot be negative from showing negative values."""
    low, high = ax.get_xlim() if axis == "x" else ax.get_ylim()
    if low < 0:
        (ax.set_xlim if axis == "x" else ax.set_ylim)(0, high)


def _column(table, name: str) -> np.ndarray | None:
    """Column ``name`` as floats (NaN where missing), or None when absent or all missing."""
    if name not in table.columns:
        return None
    values = pd.to_numeric(table[name], errors="coerce").to_numpy(float)
    return values if np.isfinite(values).any() else None


def plot_tradeoff(table, path: str | Path | None = None) -> plt.Figure:
    """The summary of ``greenopt compare``: non-renewable energy against the 95th-percentile
    slowdown and against the slowdown std, one labelled point per policy (lower-left is better),
    and, when the table has an ``objective`` column, each policy's objective on the common scale
    with the ``lower_bound`` marked where the table carries one."""
    table = table[table["valid"].astype(bool)] if "valid" in table.columns else table
    names = [readable_policy(x) for x in table.index]
    nre = _column(table, "nre_kwh")
    objective = _column(table, "objective")
    bound = _column(table, "lower_bound")
    panels = 3 if objective is not None else 2
    fig, axes = plt.subplots(
        1, panels, figsize=(5.0 * panels, 4.4), gridspec_kw={"wspace": 0.3 if panels == 2 else 0.45}
    )
    colors = [plt.cm.tab10(i % 10) for i in range(len(names))]
    for ax, metric, xlabel in (
        (axes[0], "slowdown_p95", "95th-percentile slowdown (completion time / work)"),
        (axes[1], "slowdown_std", "slowdown standard deviation (stability)"),
    ):
        x = table[metric].astype(float).to_numpy()
        ax.scatter(x, nre, c=colors, s=36, zorder=3)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("non-renewable energy (kWh)")
        ax.margins(0.18)
        _floor_at_zero(ax, "x")
        _floor_at_zero(ax, "y")
        ax.grid(True, lw=0.3, alpha=0.5)
    axes[0].set_title("Energy against tail slowdown (lower left is better)", fontsize=10)
    axes[1].set_title("Energy against slowdown spread (lower left is better)", fontsize=10)
    if objective is not None:
        ax = axes[2]
        rows = np.arange(len(names))
        ax.scatter(objective, rows, c=colors, s=36, zorder=3)
        ratio = _column(table, "bound_ratio")
        ticks = [textwrap.fill(n, 28) for n in names]  # long labels wrap instead of overlapping
        if ratio is not None:
            ticks = [
                f"{n}\n{r:.3g}× bound" if np.isfinite(r) else n
                for n, r in zip(ticks, ratio, strict=True)
            ]
        ax.set_yticks(rows, ticks, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("objective (kWh: energy + priced delay)")
        ax.set_title("Common objective", fontsize=10)
        if bound is not None:
            lb = float(np.nanmax(bound))  # one instance: one bound (the tightest, if several)
            ax.axvline(lb, color="black", ls="--", lw=1, label=f"lower bound {lb:.4g}")
            ax.legend(fontsize=8, loc="best")
        ax.margins(x=0.15, y=0.1)
        _floor_at_zero(ax, "x")
        ax.grid(True, axis="x", lw=0.3, alpha=0.5)
    fig.canvas.draw()  # final limits before labels are placed
    for ax, metric in ((axes[0], "slowdown_p95"), (axes[1], "slowdown_std")):
        _label_panel(ax, table[metric].astype(float).to_numpy(), nre, names, colors)
    if path is not None:
        save(fig, path)
    return fig
