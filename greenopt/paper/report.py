"""Shared pieces of the report: the build context (where figures and tables go), number
formatting for the text, Markdown tables and policy labels."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from greenopt.files import write_csv_atomic  # noqa: E402
from greenopt.instance import Parameters  # noqa: E402
from greenopt.paper.experiments import ExperimentRun  # noqa: E402
from greenopt.paper.stats import decimals_for  # noqa: E402
from greenopt.plots import save  # noqa: E402

FIGURES, TABLES = "figures", "tables"

#: Readable defaults for every report figure.
STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}


@dataclass
class Context:
    """What a section needs: the staging folder, the build size, the experiments' results and the
    SPEC-default parameters; it records every figure and table written."""

    folder: Path
    size: str
    runs: dict[str, ExperimentRun]
    params: Parameters = field(default_factory=lambda: Parameters(horizon_h=24.0))
    figures: list[str] = field(default_factory=list)
    #: raw numbers sections share (e.g. for the verdict on the claims)
    facts: dict = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)

    def figure(self, fig: plt.Figure, name: str) -> str:
        """Save ``fig`` as ``figures/<name>.png``; returns the path relative to the report."""
        rel = f"{FIGURES}/{name}.png"
        save(fig, self.folder / rel)
        self.figures.append(rel)
        return rel

    def table(self, frame: pd.DataFrame, name: str) -> str:
        """Write ``frame`` as ``tables/<name>.csv``; returns the path relative to the report."""
        rel = f"{TABLES}/{name}.csv"
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(frame, path)
        self.tables.append(rel)
        return rel


# ---- numbers in the text ------------------------------------------------------------------


def fmt(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` significant figures (integers ≥ 10^digits in full)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if abs(value) < ZERO:
        return "0"
    if abs(value) >= 10**digits or value.is_integer():
        return f"{value:.0f}"
    return strip_zeros(f"{value:.{decimals_for(value, digits)}f}")


#: Magnitudes below this are shown as 0 (floating-point residue of sums).
ZERO = 1e-9


def strip_zeros(text: str) -> str:
    """``2.50`` → ``2.5``, ``60.0`` → ``60`` (numbers without an exponent)."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def pct(share: float, decimals: int = 0) -> str:
    """A share in [0, 1] as a percentage."""
    if share is None or math.isnan(share):
        return "n/a"
    return f"{100 * share:.{decimals}f} %"


def num_list(values: Iterable[float], unit: str = "") -> str:
    """``a, b and c`` (with a unit after the last)."""
    items = [fmt(float(v)) if not isinstance(v, str) else v for v in values]
    text = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return f"{text} {unit}".rstrip()


def md_table(frame: pd.DataFrame) -> str:
    """A Markdown table of ``frame`` (values already formatted as text); every column after the
    first is right-aligned."""
    cols = [str(c) for c in frame.columns]
    lines = [
        "| " + " | ".join(cols) + " |",
        "|" + "|".join([":--", *["--:"] * (len(cols) - 1)]) + "|",
    ]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


# ---- policies -----------------------------------------------------------------------------

#: Row order of the comparison tables and the class of each policy variant.
POLICY_CLASSES: dict[str, str] = {
    "static": "no migration",
    "pause_greedy": "no migration",
    "energy_greedy": "energy-driven",
    "milp (no filter)": "energy-driven",
    "feasibility_greedy": "feasibility-aware",
    "feasibility_greedy (noisy)": "feasibility-aware",
    "milp": "feasibility-aware",
    "rolling (noisy)": "feasibility-aware",
    "rolling (perfect)": "feasibility-aware",
    "rolling (persistence)": "feasibility-aware",
}
#: One colour per policy variant in line plots (hues follow the class).
POLICY_COLORS = {
    "static": "dimgrey",
    "pause_greedy": "black",
    "energy_greedy": "tab:orange",
    "milp (no filter)": "tab:brown",
    "feasibility_greedy": "tab:green",
    "feasibility_greedy (noisy)": "yellowgreen",
    "milp": "tab:blue",
    "rolling (noisy)": "tab:purple",
}
CLASS_COLORS = {
    "no migration": "tab:grey",
    "energy-driven": "tab:orange",
    "feasibility-aware": "tab:green",
}


def policy_label(row: pd.Series) -> str:
    """The label of a result row: the policy, with ``(no filter)`` for the MILP without the
    feasibility filter and the forecast for forecast-driven variants."""
    policy = str(row["policy"])
    forecast = row.get("setting.forecast")
    if policy == "milp":
        flt = row.get("setting.feasibility_filter")
        return "milp" if flt is None or bool(flt) else "milp (no filter)"
    if policy == "rolling":
        return f"rolling ({forecast})"
    if policy == "feasibility_greedy" and isinstance(forecast, str) and forecast != "perfect":
        return f"feasibility_greedy ({forecast})"
    return policy


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``label`` column (:func:`policy_label`)."""
    out = frame.copy()
    out["label"] = [policy_label(r) for _, r in out.iterrows()]
    return out


def ordered_labels(labels: Iterable[str]) -> list[str]:
    present = list(dict.fromkeys(labels))
    known = [k for k in POLICY_CLASSES if k in present]
    return known + sorted(set(present) - set(known))
