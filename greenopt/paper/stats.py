"""Means with 95 % confidence intervals over seeds (Student t, numpy only).

For n values x_1 … x_n: mean x̄, sample standard deviation s (ddof = 1) and half-width
h = t_{0.975, n−1} · s / √n, so that [x̄ − h, x̄ + h] is the two-sided 95 % interval. The t
quantiles come from :data:`T975` (standard tables, 3 decimals); a number of degrees of freedom not
in the table uses the next smaller one listed (a slightly wider, conservative interval).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

#: t_{0.975, df}: the 97.5th percentile of Student's t with df degrees of freedom.
T975: dict[int, float] = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
    10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110,
    18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060,
    26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980,
}  # fmt: skip
Z975 = 1.960  # the normal limit (df → ∞)


def t975(df: int) -> float:
    """t_{0.975, df} from :data:`T975` (the next smaller tabulated df; 1.960 beyond 120)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df > max(T975):
        return Z975
    return T975[max(k for k in T975 if k <= df)]


@dataclass(frozen=True)
class Estimate:
    """Mean of n values with the half-width of its 95 % interval (NaN for n < 2)."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def format(self, digits: int = 3) -> str:
        """``mean ± h`` with ``digits`` significant figures on the mean and the same decimals on
        h; just the mean when n = 1."""
        if self.n == 0 or math.isnan(self.mean):
            return "n/a"
        if self.n < 2 or math.isnan(self.half_width):
            if float(self.mean).is_integer():
                return f"{self.mean:.0f}"
            decimals = decimals_for(self.mean, digits)
            return f"{self.mean:.{decimals}f}"
        if self.half_width == 0 and float(self.mean).is_integer():
            return f"{self.mean:.0f} ± 0"
        decimals = decimals_for(self.mean, digits)
        return f"{self.mean:.{decimals}f} ± {self.half_width:.{decimals}f}"


def decimals_for(value: float, digits: int) -> int:
    """Decimals that show ``value`` with ``digits`` significant figures (at least 0)."""
    if value == 0 or not math.isfinite(value):
        return max(0, digits - 1)
    return max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))


def mean_ci(values: Iterable[float]) -> Estimate:
    """Mean and 95 % t-interval half-width of ``values`` (NaNs dropped)."""
    x = np.asarray([v for v in values if v is not None], float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    if n == 1:
        return Estimate(float(x[0]), math.nan, 1)
    half = t975(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return Estimate(float(x.mean()), half, n)
