"""What the report sections share: the section protocol, the grid of the feasibility analysis
(window lengths, checkpoint sizes, bandwidths, job powers), a move's break-even time, the words
that compare two numbers and the instance an experiment runs on."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from greenopt.feasibility import break_even_h, migration_energy_kwh, migration_time_s
from greenopt.instance import Instance
from greenopt.network import Route
from greenopt.paper.report import Context
from greenopt.paper.stats import mean_ci
from greenopt.plots import MODEL_CLASSES

#: A report section: computes its numbers, writes its figures and tables through the
#: :class:`~greenopt.paper.report.Context` and returns the ``${name}`` values of the template it
#: fills. Raw numbers a later section needs (the verdict on the claims) go into ``ctx.facts``.
Section = Callable[[Context], dict[str, str]]

#: Renewable-window lengths (h) of the feasibility frontiers: the paper's range of mean windows.
WINDOWS_H = (2.5, 5.0, 9.5)
SIZE_RANGE_GB = (1.0, 1000.0)
BANDWIDTH_RANGE_GBPS = (1.0, 100.0)
#: The grid, log-uniform in size and bandwidth, that the shares of Section 2 are taken over.
GRID_SIZES_GB = np.geomspace(*SIZE_RANGE_GB, 61)
GRID_BANDWIDTHS_GBPS = np.geomspace(*BANDWIDTH_RANGE_GBPS, 41)
#: Job IT powers (kW): the generator's range of single-GPU jobs and a middle value.
POWERS_KW = (0.25, 0.4, 0.7)
PUE = 1.2
#: "Within minutes": the break-even bound the claim-1 shares are counted against.
MINUTES_BOUND = 10.0
#: Reference bandwidth (Gbps) for single figures quoted in the text.
REF_BW_GBPS = 10.0
#: Relative difference below which two single values count as about equal.
REL_TOL = 0.02


def link(bandwidth_gbps: float) -> Route:
    """A one-link route of ``bandwidth_gbps`` without latency."""
    return Route(("a", "b"), float(bandwidth_gbps), 0.0)


def break_even_min(ctx: Context, size_gb: float, bandwidth_gbps: float, power_kw: float) -> float:
    """T_be (min) of a move of ``size_gb`` over one link, for a job of ``power_kw`` at PUE 1.2."""
    t = migration_time_s(ctx.params, size_gb, link(bandwidth_gbps))
    return 60.0 * break_even_h(migration_energy_kwh(ctx.params, size_gb, t), PUE, power_kw)


def full_fine_tune_7b() -> tuple[str, float]:
    """The model class nearest a 110-GB checkpoint (the 7B full fine-tune): (label, GB)."""
    return min(MODEL_CLASSES, key=lambda c: abs(np.log(c[1] / 110.0)))


def compare_word(a: float, b: float, rel: float = REL_TOL) -> str:
    """``lower`` / ``higher`` when a differs from b by more than ``rel`` (relative), else
    ``about equal``."""
    if np.isnan(a) or np.isnan(b):
        return "not comparable"
    if a < b - rel * abs(b):
        return "lower"
    if a > b + rel * abs(b):
        return "higher"
    return "about equal"


def mean_ci_columns(rows: pd.DataFrame, metrics: Iterable[str]) -> dict[str, float]:
    """Per metric its mean over ``rows`` and the 95 % CI half-width (``<metric>_ci95``), and the
    number of rows ``n``."""
    out: dict[str, float] = {}
    for m in metrics:
        e = mean_ci(rows[m].astype(float))
        out |= {m: e.mean, f"{m}_ci95": e.half_width, "n": e.n}
    return out


def experiment_instance(ctx: Context, key: str) -> Instance:
    """The (untransformed) instance the experiment ``key`` runs on."""
    from greenopt.sweep.execute import build_instance

    spec = next(iter(ctx.runs[key].sweep.runs().values()))
    return build_instance({**spec, "transform": {}})
