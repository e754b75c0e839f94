"""Pareto fronts of non-renewable energy (NRE) against slowdown; the claim-3 verdict by dominance.

**Table.** :func:`trace_fronts` runs each front policy (``milp``, ``rolling``) at every
``slowdown_weight`` (the instance knob, :mod:`greenopt.sweep.transform`) with the feasibility
filter on and off, its other settings unchanged, and places other policies (heuristics) as single
points; :func:`table_from_sweep` turns a sweep's ``results.parquet`` (``experiments/pareto*.toml``)
into the same tidy table: one row per run with :data:`TABLE_COLUMNS`. A *family* is a
(policy, filter) pair; a *case* is what fronts are compared within (by default an instance and the
forecast error the runs planned on).

**Fronts.** In a plane (x = slowdown p95 or std, y = NRE; both minimised) a family's front is its
non-dominated points (:func:`non_dominated`: no other point is ≤ on both axes and < on one) after
averaging repeated runs (seeds) of one slowdown weight; :class:`Front` joins them, sorted by x
(then y strictly decreases), by straight segments: a monotone piecewise-linear curve defined on
[x_min, x_max] of its points. Interpolated values are a reading aid, not schedules.

**Criterion (claim 3, decided in issue 16).** Family A improves on family B in a case if, read off
their fronts: (1) at matched slowdown p95 A uses less NRE, (2) at matched slowdown std A uses less
NRE, and (3) at matched NRE A has a lower slowdown std. Each part compares y_A(x) with y_B(x) over
the *matched range* [max(x_min), min(x_max)] of the two fronts (for part 3, x = NRE and y = std on
the same curves) at every breakpoint of either front in it (the difference is linear between them,
so this is exact). With tolerance τ(x) = rel_tol · |y_B(x)| + abs_tol a part

- *holds* when y_A ≤ y_B + τ everywhere and y_A < y_B − τ somewhere (A dominates B there);
- *fails* otherwise, detailed as ``worse`` (B dominates), ``tie`` (within τ everywhere) or
  ``crossing`` (each better somewhere);
- is *undecided* when the matched range is empty (the fronts do not overlap).

The claim holds for the pair when all three parts hold, fails when a decided part fails, and is
undecided otherwise. A single point p (a heuristic) is *dominated* by a front when the front's y at
min(x_p, x_max) is below y_p − τ, *on* it within τ, *beyond* it otherwise; a point left of the
front (x_p < x_min) is ``outside`` (no front point is as fast).

**Regimes.** Per case, :func:`regime_of` gives the season of the instance's start, the median
migration time of a checkpoint over a link (over every job × link pair, SPEC §3 T_mig) and its
class (:data:`LINK_REGIME_EDGES_MIN`: ``fast`` ≤ 5 min, ``medium`` ≤ 30 min, ``slow`` beyond — a
third of a 15-min slot and alpha = 0.1 of a 5-h window), and the forecast error the run planned on
(the ``forecast_error`` of a ``noisy`` forecast, 0 for ``perfect`` forecasts and for policies that
plan on the actual traces, NaN for ``persistence``). :func:`verdicts` returns per case and pair the
numbers compared, and per regime value the counts of cases where the claim holds, fails or is
undecided (verdict ``holds`` / ``fails`` when all decided cases agree, ``mixed`` when they do not,
``undecided`` when none is decided).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.compare import PolicySpec
from greenopt.data import season_of
from greenopt.feasibility import transfer_time_s
from greenopt.instance import Instance
from greenopt.optimization import ModelSettings, schedule_objective
from greenopt.policies import make_policy
from greenopt.runner import RunResult, run_policy
from greenopt.sweep.transform import apply_transforms

FRONT_POLICIES = ("milp", "rolling")
DEFAULT_WEIGHTS = (0.3, 1.0, 3.0, 10.0)
#: Upper edges (minutes) of the ``fast`` and ``medium`` link regimes.
LINK_REGIME_EDGES_MIN = (5.0, 30.0)
REGIME_COLUMNS = ("season", "transfer_min", "link_regime", "forecast_error")
TABLE_COLUMNS = (
    "instance",
    "kind",
    "policy",
    "filter",
    "family",
    "slowdown_weight",
    "seed",
    "valid",
    "nre_kwh",
    "slowdown_p95",
    "slowdown_std",
    "objective",
    "model_gap",
    "time_limit_s",
    "mip_rel_gap",
    "forecast",
    *REGIME_COLUMNS,
    "settings",
)
#: criterion → (x column, y column): y compared at matched x.
CRITERIA = {
    "nre_at_p95": ("slowdown_p95", "nre_kwh"),
    "nre_at_std": ("slowdown_std", "nre_kwh"),
    "std_at_nre": ("nre_kwh", "slowdown_std"),
}
#: point planes: name → (slowdown column, NRE column)
PLANES = {"p95": ("slowdown_p95", "nre_kwh"), "std": ("slowdown_std", "nre_kwh")}


def family_label(policy: str, filter_on: Any) -> str:
    """``policy (filter on|off)``, or the policy alone for policies without the switch."""
    if filter_on is None or (isinstance(filter_on, float) and np.isnan(filter_on)):
        return policy
    return f"{policy} (filter {'on' if bool(filter_on) else 'off'})"


# ---- regimes -----------------------------------------------------------------------------------


def regime_of(instance: Instance) -> dict[str, Any]:
    """Season of the start (None without a start), median T_mig over job × link pairs (minutes)
    and its class (:data:`LINK_REGIME_EDGES_MIN`)."""
    start = instance.params.start
    sizes = np.array([j.checkpoint_gb for j in instance.jobs], float)
    bws = np.array([lk.bandwidth_gbps for lk in instance.links], float)
    lat = np.array([lk.latency_ms for lk in instance.links], float)
    if len(sizes) and len(bws):
        t = transfer_time_s(instance.params, sizes[:, None], bws[None, :], lat[None, :])
        minutes = float(np.median(t)) / 60.0
    else:
        minutes = float("nan")
    fast, medium = LINK_REGIME_EDGES_MIN
    if np.isnan(minutes):
        link = None
    else:
        link = "fast" if minutes <= fast else "medium" if minutes <= medium else "slow"
    return {
        "season": season_of(start) if start is not None else None,
        "transfer_min": minutes,
        "link_regime": link,
    }


def forecast_of(settings: dict[str, Any]) -> tuple[str, float]:
    """(forecast name, error it planned with): ``noisy`` → its ``forecast_error``; ``perfect`` or
    no forecast setting (planning on the actual traces: ``actual``) → 0; ``persistence`` → NaN."""
    name = settings.get("forecast")
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return "actual", 0.0
    if name == "noisy":
        return "noisy", float(settings.get("forecast_error", np.nan))
    if name == "perfect":
        return "perfect", 0.0
    return str(name), float("nan")


# ---- running --------------------------------------------------------------------------------


def _row(inst: Instance, result: RunResult, kind: str, weight: float) -> dict[str, Any]:
    settings = dict(result.settings)
    metrics = result.metrics
    objective = None
    if result.simulation.valid:
        objective = float(
            schedule_objective(inst, result.schedule, result.simulation, ModelSettings())
        )
    forecast, error = forecast_of(settings)
    flt = settings.get("feasibility_filter")
    return {
        "instance": inst.name,
        "kind": kind,
        "policy": result.policy,
        "filter": flt,
        "family": family_label(result.policy, flt),
        "slowdown_weight": float(weight),
        "seed": settings.get("seed"),
        "valid": bool(result.simulation.valid),
        "nre_kwh": metrics.get("nre_kwh"),
        "slowdown_p95": metrics.get("slowdown_p95"),
        "slowdown_std": metrics.get("slowdown_std"),
        "objective": objective,
        "model_gap": metrics.get("model_gap"),
        "time_limit_s": settings.get("time_limit_s"),
        "mip_rel_gap": settings.get("mip_rel_gap"),
        "forecast": forecast,
        **regime_of(inst),
        "forecast_error": error,
        "settings": json.dumps(settings, sort_keys=True, default=str),
    }


def trace_fronts(
    instances: Sequence[Instance],
    front_specs: Sequence[PolicySpec],
    weights: Sequence[float] = DEFAULT_WEIGHTS,
    filters: Sequence[bool] = (True, False),
    point_specs: Sequence[PolicySpec] = (),
    on_result: Callable[[Instance, RunResult], None] | None = None,
) -> pd.DataFrame:
    """Run every ``front_specs`` policy at every slowdown weight × filter state (other settings as
    given) and every ``point_specs`` policy once at the instance's own weight; the tidy table
    (:data:`TABLE_COLUMNS`; ``objective`` is the MILP objective at default model settings on the
    run's instance, i.e. at its weight, as in ``greenopt compare``)."""
    for spec in front_specs:
        if "feasibility_filter" in spec.settings:
            raise ValueError(f"policy {spec.label!r}: the front sets feasibility_filter itself")
    if any(w < 0 for w in weights):
        raise ValueError("slowdown weights must be >= 0")
    rows = []
    for inst in instances:
        for spec in front_specs:
            for w in weights:
                weighted = apply_transforms(inst, {"slowdown_weight": float(w)})
                for flt in filters:
                    policy = make_policy(spec.name, **spec.settings, feasibility_filter=flt)
                    result = run_policy(weighted, policy)
                    rows.append(_row(weighted, result, "front", w))
                    if on_result is not None:
                        on_result(weighted, result)
        for spec in point_specs:
            result = run_policy(inst, make_policy(spec.name, **spec.settings))
            rows.append(_row(inst, result, "point", inst.params.slowdown_weight))
            if on_result is not None:
                on_result(inst, result)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def table_from_sweep(results: pd.DataFrame, front_policies=FRONT_POLICIES) -> pd.DataFrame:
    """The tidy table of a sweep's ``results.parquet``: rows of ``front_policies`` are front
    points, others single points. Regimes come from each run's instance, rebuilt from its resolved
    run (``spec``); ``objective`` is the MILP's own (``info.objective_recomputed``), NaN for other
    policies; failed runs are left out."""
    from greenopt.sweep.execute import build_instance

    rows = []
    regimes: dict[str, dict[str, Any]] = {}
    for _, r in results[results["status"] != "failed"].iterrows():
        spec = json.loads(r["spec"])
        spec_key = json.dumps({**spec, "settings": None}, sort_keys=True, default=str)
        if spec_key not in regimes:
            inst = build_instance(spec)
            regimes[spec_key] = {**regime_of(inst), "weight": inst.params.slowdown_weight}
        regime = dict(regimes[spec_key])
        weight = regime.pop("weight")
        settings = {
            k.removeprefix("setting."): v
            for k, v in r.items()
            if k.startswith("setting.") and not _missing(v)
        }
        forecast, error = forecast_of(settings)
        flt = settings.get("feasibility_filter")
        flt = None if flt is None else bool(flt)
        rows.append(
            {
                "instance": r.get("instance"),
                "kind": "front" if r["policy"] in front_policies else "point",
                "policy": r["policy"],
                "filter": flt,
                "family": family_label(r["policy"], flt),
                "slowdown_weight": float(weight),
                "seed": r.get("seed"),
                "valid": r["status"] == "ok",
                "nre_kwh": r.get("nre_kwh"),
                "slowdown_p95": r.get("slowdown_p95"),
                "slowdown_std": r.get("slowdown_std"),
                "objective": r.get("info.objective_recomputed", np.nan),
                "model_gap": r.get("model_gap", np.nan),
                "time_limit_s": settings.get("time_limit_s"),
                "mip_rel_gap": settings.get("mip_rel_gap"),
                "forecast": forecast,
                **regime,
                "forecast_error": error,
                "settings": json.dumps(settings, sort_keys=True, default=str),
            }
        )
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


# ---- fronts --------------------------------------------------------------------------------


def non_dominated(values: np.ndarray) -> np.ndarray:
    """Mask of the rows of ``values`` (n × k, every column minimised) that no other row dominates
    (≤ in every column and < in one). Equal rows do not dominate each other."""
    v = np.asarray(values, float)
    if v.ndim != 2:
        raise ValueError("values must be a 2-D array (points × objectives)")
    if np.isnan(v).any():
        raise ValueError("values contain NaN")
    le = (v[:, None, :] <= v[None, :, :]).all(axis=2)  # le[j, i]: row j <= row i everywhere
    lt = (v[:, None, :] < v[None, :, :]).any(axis=2)
    return ~(le & lt).any(axis=0)


@dataclass(frozen=True)
class Front:
    """A monotone piecewise-linear front through non-dominated points: ``x`` strictly increasing,
    ``y`` strictly decreasing."""

    x: np.ndarray
    y: np.ndarray

    @classmethod
    def of(cls, x: Sequence[float], y: Sequence[float]) -> Front:
        """The front of the points (x_i, y_i): their non-dominated subset, duplicates merged."""
        pts = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
        if len(pts) == 0:
            raise ValueError("a front needs at least one point")
        pts = np.unique(pts[non_dominated(pts)], axis=0)  # sorted by x, then y
        return cls(pts[:, 0], pts[:, 1])

    def swapped(self) -> Front:
        """The same curve read the other way (x ↔ y)."""
        return Front(self.y[::-1].copy(), self.x[::-1].copy())

    def at(self, x: float) -> float:
        """y on the curve at ``x`` (NaN outside [x_min, x_max])."""
        if x < self.x[0] or x > self.x[-1]:
            return float("nan")
        return float(np.interp(x, self.x, self.y))


@dataclass(frozen=True)
class Comparison:
    """Front A against front B: the verdict and the numbers it was read from (A − B differences,
    negative = A lower; ``share_*``: fraction of the matched range where A is lower / higher
    beyond the tolerance)."""

    verdict: str
    detail: str
    matched_low: float
    matched_high: float
    n_matched: int
    diff_min: float
    diff_max: float
    x_at_diff_min: float
    x_at_diff_max: float
    share_better: float
    share_worse: float


def compare_fronts(a: Front, b: Front, rel_tol: float = 0.02, abs_tol: float = 0.0) -> Comparison:
    """Is A's y lower than B's at matched x (module docstring: holds / fails / undecided)?"""
    lo, hi = max(a.x[0], b.x[0]), min(a.x[-1], b.x[-1])
    nan = float("nan")
    if lo > hi:
        return Comparison("undecided", "no overlap", lo, hi, 0, nan, nan, nan, nan, nan, nan)
    grid = np.unique(np.concatenate([[lo, hi], a.x, b.x]))
    grid = grid[(grid >= lo) & (grid <= hi)]
    ya = np.interp(grid, a.x, a.y)
    yb = np.interp(grid, b.x, b.y)
    d = ya - yb
    tol = rel_tol * np.abs(yb) + abs_tol
    better, worse = d < -tol, d > tol
    share_better = _share(grid, d + tol, below=True)
    share_worse = _share(grid, d - tol, below=False)
    if better.any() and worse.any():
        verdict, detail = "fails", "crossing"
    elif better.any():
        verdict, detail = "holds", "better"
    elif worse.any():
        verdict, detail = "fails", "worse"
    else:
        verdict, detail = "fails", "tie"
    i, k = int(np.argmin(d)), int(np.argmax(d))
    return Comparison(
        verdict,
        detail,
        float(lo),
        float(hi),
        len(grid),
        float(d[i]),
        float(d[k]),
        float(grid[i]),
        float(grid[k]),
        share_better,
        share_worse,
    )


def _share(x: np.ndarray, f: np.ndarray, below: bool) -> float:
    """Fraction of [x_0, x_n] where the piecewise-linear f (values at x) is < 0 (``below``) or > 0.
    A single point counts as 1 or 0."""
    g = f if below else -f
    if len(x) == 1:
        return float(g[0] < 0)
    total = 0.0
    for x0, x1, g0, g1 in zip(x[:-1], x[1:], g[:-1], g[1:], strict=True):
        if g0 < 0 and g1 < 0:
            total += x1 - x0
        elif g0 < 0 or g1 < 0:
            cross = x0 + (x1 - x0) * g0 / (g0 - g1)
            total += (cross - x0) if g0 < 0 else (x1 - cross)
    return float(total / (x[-1] - x[0]))


def place_point(x: float, y: float, front: Front, rel_tol: float = 0.02, abs_tol: float = 0.0):
    """(status, front's y at min(x, x_max) − y): ``dominated``, ``on front``, ``beyond`` or
    ``outside`` (x < x_min; difference NaN)."""
    if x < front.x[0]:
        return "outside", float("nan")
    yf = front.at(min(x, front.x[-1]))
    d = yf - y
    tol = rel_tol * abs(y) + abs_tol
    if d < -tol:
        return "dominated", d
    if d <= tol:
        return "on front", d
    return "beyond", d


# ---- verdicts --------------------------------------------------------------------------------


def family_points(table: pd.DataFrame, max_gap: float | None = None) -> pd.DataFrame:
    """Valid rows averaged over seeds: one row per case, family and slowdown weight (front
    families) or per case and family (points, whose policies ignore the weight: NaN). With
    ``max_gap``, runs whose recorded ``model_gap`` exceeds it are left out first."""
    ok = table[table["valid"].astype(bool)].copy()
    if max_gap is not None:  # runs whose recorded gap exceeds max_gap are left out
        ok = ok[~(ok["model_gap"].astype(float) > max_gap)]
    keys = ["instance", "forecast_error", "kind", "family", "slowdown_weight"]
    ok["forecast_error"] = ok["forecast_error"].fillna(-1.0)  # NaN keys would be dropped
    ok.loc[ok["kind"] == "point", "slowdown_weight"] = -1.0  # points: one per family
    metrics = ["nre_kwh", "slowdown_p95", "slowdown_std"]
    first = ["season", "transfer_min", "link_regime"]
    out = ok.groupby(keys, sort=True, dropna=False).agg(
        **{m: (m, "mean") for m in metrics},
        **{c: (c, "first") for c in first},
        runs=("nre_kwh", "size"),
    )
    out = out.reset_index()
    for col in ("forecast_error", "slowdown_weight"):
        out[col] = out[col].replace(-1.0, np.nan)
    return out


def mark_fronts(table: pd.DataFrame, max_gap: float | None = None) -> pd.DataFrame:
    """``family_points`` with ``on_front_p95`` / ``on_front_std``: the point is non-dominated
    within its family and case in that plane."""
    pts = family_points(table, max_gap)
    for plane, cols in PLANES.items():
        mask = pd.Series(False, index=pts.index)
        for _, g in pts.groupby(["instance", "forecast_error", "family"], dropna=False):
            mask[g.index] = non_dominated(g[list(cols)].to_numpy())
        pts[f"on_front_{plane}"] = mask
    return pts


def _cases(pts: pd.DataFrame):
    return pts.groupby(["instance", "forecast_error"], dropna=False, sort=True)


def case_comparisons(
    table: pd.DataFrame,
    rel_tol: float = 0.02,
    abs_tol: float = 0.0,
    max_gap: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(front pairs, points): every ordered pair of front families of a case, per criterion and
    overall (``criterion == "claim"``), with the numbers compared; every point family against
    every front family of its case, per plane."""
    pts = family_points(table, max_gap)
    pairs, placed = [], []
    for (instance, ferr), case in _cases(pts):
        regime = {c: case[c].iloc[0] for c in ("season", "transfer_min", "link_regime")}
        base = {"instance": instance, "forecast_error": ferr, **regime}
        fronts = {fam: g for fam, g in case[case["kind"] == "front"].groupby("family", sort=True)}
        for fa, ga in fronts.items():
            for fb, gb in fronts.items():
                if fa == fb:
                    continue
                parts = []
                for crit, (xc, yc) in CRITERIA.items():
                    a, b = Front.of(ga[xc], ga[yc]), Front.of(gb[xc], gb[yc])
                    c = compare_fronts(a, b, rel_tol, abs_tol)
                    parts.append(c.verdict)
                    pairs.append({**base, "a": fa, "b": fb, "criterion": crit, **vars(c)})
                pairs.append(
                    {**base, "a": fa, "b": fb, "criterion": "claim", "verdict": combine(parts)}
                )
        for _, p in case[case["kind"] == "point"].iterrows():
            for fb, gb in fronts.items():
                for plane, (xc, yc) in PLANES.items():
                    status, d = place_point(
                        p[xc], p[yc], Front.of(gb[xc], gb[yc]), rel_tol, abs_tol
                    )
                    placed.append(
                        {
                            **base,
                            "point": p["family"],
                            "front": fb,
                            "plane": plane,
                            "x": p[xc],
                            "y": p[yc],
                            "status": status,
                            "front_minus_point": d,
                        }
                    )
    return pd.DataFrame(pairs), pd.DataFrame(placed)


def combine(parts: Sequence[str]) -> str:
    """Claim verdict from its parts: all hold → holds; any fails → fails; else undecided."""
    if parts and all(p == "holds" for p in parts):
        return "holds"
    if any(p == "fails" for p in parts):
        return "fails"
    return "undecided"


def verdicts(
    table: pd.DataFrame,
    regimes: Sequence[str] = ("link_regime", "season", "forecast_error"),
    rel_tol: float = 0.02,
    abs_tol: float = 0.0,
    max_gap: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per regime, per case, points): the claim verdict of every ordered front-family pair per
    value of each regime column (and ``all``), counted over cases; the per-case comparisons and
    point placements of :func:`case_comparisons` (``max_gap``: :func:`family_points`)."""
    pairs, placed = case_comparisons(table, rel_tol, abs_tol, max_gap)
    rows = []
    if len(pairs):
        claims = pairs[pairs["criterion"] == "claim"]
        groupings = [("all", None)] + [(r, r) for r in regimes]
        for name, col in groupings:
            keys = ["a", "b"] if col is None else [col, "a", "b"]
            for key, g in claims.groupby(keys, dropna=False, sort=True):
                key = key if isinstance(key, tuple) else (key,)
                n = {v: int((g["verdict"] == v).sum()) for v in ("holds", "fails", "undecided")}
                if n["holds"] and n["fails"]:
                    verdict = "mixed"
                elif n["holds"]:
                    verdict = "holds"
                elif n["fails"]:
                    verdict = "fails"
                else:
                    verdict = "undecided"
                rows.append(
                    {
                        "regime": name,
                        "value": "all" if col is None else key[0],
                        "a": key[-2],
                        "b": key[-1],
                        "cases": len(g),
                        **{f"n_{k}": v for k, v in n.items()},
                        "verdict": verdict,
                    }
                )
    return pd.DataFrame(rows), pairs, placed


# ---- from a sweep folder ------------------------------------------------------------------------


def report(
    folder: str | Path, rel_tol: float = 0.02, max_gap: float | None = None
) -> dict[str, pd.DataFrame]:
    """Read ``folder/results.parquet`` of a Pareto sweep and write beside it (atomically)
    ``pareto.csv`` (the tidy table), ``pareto_points.csv`` (seed means, on-front flags),
    ``pareto_pairs.csv`` (per case and pair), ``pareto_placed.csv`` (heuristic points) and
    ``pareto_verdicts.csv`` (per regime); returns them by name."""
    from greenopt.files import write_csv_atomic

    folder = Path(folder)
    table = table_from_sweep(pd.read_parquet(folder / "results.parquet"))
    regime, pairs, placed = verdicts(table, rel_tol=rel_tol, max_gap=max_gap)
    out = {
        "pareto": table,
        "pareto_points": mark_fronts(table, max_gap),
        "pareto_pairs": pairs,
        "pareto_placed": placed,
        "pareto_verdicts": regime,
    }
    for name, df in out.items():
        write_csv_atomic(df, folder / f"{name}.csv")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m greenopt.pareto DIR [--rel-tol T]``: :func:`report`, printed."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m greenopt.pareto", description=main.__doc__)
    parser.add_argument("folder", type=Path, help="output folder of a Pareto sweep")
    parser.add_argument("--rel-tol", type=float, default=0.02, help="tie tolerance (relative)")
    parser.add_argument("--max-gap", type=float, default=None, help="leave out runs above it")
    args = parser.parse_args(argv)
    out = report(args.folder, args.rel_tol, args.max_gap)
    with pd.option_context("display.width", 200, "display.max_columns", 40):
        for name in ("pareto_points", "pareto_verdicts", "pareto_placed"):
            print(f"== {name}\n{out[name].to_string(index=False)}\n")


if __name__ == "__main__":
    main()
