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
