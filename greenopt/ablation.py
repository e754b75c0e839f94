"""The feasibility-filter ablation: every policy run with the filter on and off, all else equal,
and the paired differences (on − off) with percentile-bootstrap intervals."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from greenopt.compare import PolicySpec
from greenopt.instance import Instance
from greenopt.optimization import ModelSettings, schedule_objective
from greenopt.policies import make_policy, policy_classes
from greenopt.runner import RunResult, run_policy

#: Metrics of the ablation table, beside instance, policy and filter.
ABLATION_METRICS = (
    "nre_kwh",
    "slowdown_p95",
    "slowdown_std",
    "infeasible_migrations",
    "objective",
)


def filterable_policies() -> list[str]:
    """Names of the policies with a ``feasibility_filter`` setting."""
    return sorted(
        name
        for name, cls in policy_classes().items()
        if "feasibility_filter" in cls.Settings.model_fields
    )


def ablate_filter(
    instances: Sequence[Instance],
    specs: Sequence[PolicySpec],
    on_result: Callable[[Instance, PolicySpec, bool, RunResult], None] | None = None,
) -> pd.DataFrame:
    """Run every policy of ``specs`` on every instance twice, ``feasibility_filter`` on and off,
    with its other settings unchanged (forecast seeds included, so both runs see one forecast).

    Returns one row per run: ``instance``, ``policy`` (the spec's label), ``filter``, ``valid``,
    then :data:`ABLATION_METRICS` (simulated on the actual traces; ``objective`` is the MILP's
    objective at default settings, as in ``greenopt compare``, None for invalid schedules).
    """
    known = filterable_policies()
    for spec in specs:
        if spec.name not in known:
            raise ValueError(
                f"policy {spec.label!r} has no feasibility filter; choose from {', '.join(known)}"
            )
        if "feasibility_filter" in spec.settings:
            raise ValueError(f"policy {spec.label!r}: the ablation sets feasibility_filter itself")
    names = [inst.name for inst in instances]
    if len(set(names)) != len(names):
        raise ValueError("instances must have distinct names (runs are paired by instance)")
    scoring = ModelSettings()
    rows = []
    for inst in instances:
        for spec in specs:
            for flt in (True, False):
                result = run_policy(
                    inst, make_policy(spec.name, **spec.settings, feasibility_filter=flt)
                )
                metrics = result.metrics
                objective = None
                if result.simulation.valid:
                    objective = float(
                        schedule_objective(inst, result.schedule, result.simulation, scoring)
                    )
                rows.append(
                    {
                        "instance": inst.name,
                        "policy": spec.label,
                        "filter": flt,
                        "valid": result.simulation.valid,
                        **{k: metrics.get(k) for k in ABLATION_METRICS if k != "objective"},
                        "objective": objective,
                    }
                )
                if on_result is not None:
                    on_result(inst, spec, flt, result)
    return pd.DataFrame(rows, columns=["instance", "policy", "filter", "valid", *ABLATION_METRICS])


def percentile_interval(
    values: np.ndarray, confidence: float, n_resamples: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of ``values``: resample them with replacement,
    take the (1 ± confidence)/2 quantiles of the resampled means. The interval lies within
    [min, max] of ``values``, so it never leaves the range the quantity can take."""
    values = np.asarray(values, float)
    if len(values) == 0:
        return (float("nan"), float("nan"))
    means = values[rng.integers(0, len(values), (n_resamples, len(values)))].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_differences(
    table: pd.DataFrame,
    metrics: Sequence[str] = ABLATION_METRICS,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Per policy and metric: mean with the filter on, off, and of the paired difference on − off
    over instances, each with a percentile-bootstrap interval (:func:`percentile_interval`,
    ``n_resamples`` resamples of the instances, numpy generator seeded with ``seed``).

    Pairs are (instance, policy) with both runs valid. Intervals of the means stay within the data,
    so those of counts and standard deviations never go below zero; an interval of a difference
    lies between the smallest and the largest paired difference."""
    rows = []
    rng = np.random.default_rng(seed)
    for policy, group in table.groupby("policy", sort=False):
        on = group[group["filter"].astype(bool)].set_index("instance")
        off = group[~group["filter"].astype(bool)].set_index("instance")
        both = on.index.intersection(off.index)
        both = [i for i in both if on.at[i, "valid"] and off.at[i, "valid"]]
        for metric in metrics:
            a = on.loc[both, metric].astype(float).to_numpy()
            b = off.loc[both, metric].astype(float).to_numpy()
            diff = a - b
            row = {"policy": policy, "metric": metric, "n": len(both)}
            for key, values in (("on", a), ("off", b), ("diff", diff)):
                low, high = percentile_interval(values, confidence, n_resamples, rng)
                row[f"{key}_mean"] = float(values.mean()) if len(values) else float("nan")
                row[f"{key}_low"], row[f"{key}_high"] = low, high
            rows.append(row)
    out = pd.DataFrame(rows)
    out["method"] = (
        f"percentile bootstrap of the mean over instances, {confidence:g}, {n_resamples}"
    )
    return out
