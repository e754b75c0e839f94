"""``greenopt plot-sweep``: a metric against a swept parameter.

One line per value of ``hue`` (and one panel per value of ``col``); each marker is the mean over
seeds of the rows with status ``ok``, with an error bar of ± one (sample) standard deviation over
seeds. Every other parameter that still varies must be pinned with ``where`` (``{"alpha": 0.1}``),
otherwise the plot would silently average over it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenopt.sweep.results import load_results, read_manifest


class PlotError(ValueError):
    pass


def select(
    df: pd.DataFrame, params: list[str], x: str, y: str, hue: str | None, col: str | None, where
) -> pd.DataFrame:
    """Rows of ``df`` with status ok matching ``where``; checks the plot is well defined."""
    for name in [x, y, hue, col, *where]:
        if name is not None and name not in df.columns:
            raise PlotError(f"no column {name!r} in the results (columns: {', '.join(df.columns)})")
    if "status" in df.columns:
        df = df[df["status"] == "ok"]
    for name, wanted in where.items():
        df = df[[_matches(v, wanted) for v in df[name]]]
    if df.empty:
        raise PlotError("no finished (status ok) rows match")
    if not pd.api.types.is_numeric_dtype(df[y]):
        raise PlotError(f"{y!r} is not numeric")
    used = {x, hue, col, "seed", *where}
    loose = [p for p in params if p not in used and p in df.columns and df[p].nunique() > 1]
    if loose:
        raise PlotError(
            f"parameters {', '.join(loose)} also vary: pin them with --where NAME=VALUE, "
            "or show them with --hue / --col"
        )
    return df


def _matches(value: Any, wanted: Any) -> bool:
    if value is None:
        return False
    try:
        return bool(np.isclose(float(value), float(wanted), rtol=1e-9, atol=0))
    except (TypeError, ValueError):
        return str(value) == str(wanted)


def summarise(df: pd.DataFrame, x: str, y: str, by: list[str]) -> pd.DataFrame:
    """Mean, sample std (0 for a single seed) and count of ``y`` per (``by``…, ``x``)."""
    keys = [*by, x]
    g = df.groupby(keys, sort=False, dropna=False)[y].agg(["mean", "std", "count"]).reset_index()
    g["std"] = g["std"].fillna(0.0)
    return g


def plot_sweep(
    out: str | Path,
    x: str,
    y: str,
    hue: str | None = None,
    col: str | None = None,
    where: dict[str, Any] | None = None,
    path: str | Path | None = None,
    xscale: str = "auto",
) -> Path:
    """Draw ``y`` against ``x`` from ``out/results.parquet``; returns the image path (default
    ``out/plots/<y>_vs_<x>[_by_<hue>][_per_<col>].png``)."""
    from matplotlib.figure import Figure

    out = Path(out)
    where = dict(where or {})
    df = load_results(out)
    params = read_manifest(out).get("params") or _guess_params(df)
    df = select(df, params, x, y, hue, col, where)

    panels = _ordered(df[col]) if col else [None]
    fig = Figure(figsize=(5.2 * len(panels), 4.0), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    numeric_x = pd.api.types.is_numeric_dtype(df[x])
    categories = None if numeric_x else [str(v) for v in _ordered(df[x])]
    for ax, panel in zip(axes, panels, strict=True):
        sub = df if col is None else df[df[col] == panel]
        for h in _ordered(sub[hue]) if hue else [None]:
            part = sub if hue is None else sub[sub[hue] == h]
            s = summarise(part, x, y, [])
            if numeric_x:
                s = s.sort_values(x)
                xs = s[x].to_numpy(float)
            else:
                xs = np.array([categories.index(str(v)) for v in s[x]], float)
            ax.errorbar(
                xs, s["mean"], yerr=s["std"], marker="o", capsize=3,
                label=None if hue is None else f"{h}",
            )  # fmt: skip
        if numeric_x and _use_log(df[x], xscale):
            ax.set_xscale("log")
        if categories is not None:
            ax.set_xticks(range(len(categories)), categories)
        ax.set_xlabel(x)
        ax.grid(alpha=0.3)
        if panel is not None:
            ax.set_title(f"{col} = {panel}")
        if hue:
            ax.legend(title=hue, fontsize="small")
    axes[0].set_ylabel(y)
    n_seeds = df["seed"].nunique() if "seed" in df.columns else 1
    title = read_manifest(out).get("name") or out.name
    extra = ", ".join(f"{k}={v}" for k, v in where.items())
    fig.suptitle(
        f"{title}: {y} vs {x}" + (f" ({extra})" if extra else "") + f" — {n_seeds} seed(s)"
    )

    if path is None:
        stem = f"{y}_vs_{x}" + (f"_by_{hue}" if hue else "") + (f"_per_{col}" if col else "")
        path = out / "plots" / f"{stem}.png"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _ordered(series: pd.Series) -> list[Any]:
    values = list(dict.fromkeys(series.dropna()))
    try:
        return sorted(values)
    except TypeError:
        return values


def _use_log(values: pd.Series, xscale: str) -> bool:
    if xscale in ("log", "linear"):
        return xscale == "log"
    if xscale != "auto":
        raise PlotError(f"xscale must be auto, log or linear, got {xscale!r}")
    v = values.to_numpy(float)
    return bool(v.min() > 0 and v.max() / v.min() >= 100)


def _guess_params(df: pd.DataFrame) -> list[str]:
    cols = list(df.columns)
    return cols[: cols.index("point")] if "point" in cols else []


def parse_where(items: list[str]) -> dict[str, str]:
    """``["alpha=0.1", "policy=milp"]`` → ``{"alpha": "0.1", "policy": "milp"}``."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise PlotError(f"--where expects NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out
