"""Renewable forecasters (SPEC §6): what a policy believes R[s, t] will be.

A :class:`Forecaster` maps the actual renewable array and the moment a forecast is issued to a
forecast array of the same shape. Slots before the issue slot are observed, so they equal the
actuals; policies never see the simulator's metrics, only these arrays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

import numpy as np

ForecastName = Literal["perfect", "persistence", "noisy"]


class Forecaster(ABC):
    """Extension point: subclass and implement :meth:`forecast`."""

    @abstractmethod
    def forecast(self, actual: np.ndarray, issued_slot: int, dt_h: float) -> np.ndarray:
        """Forecast of ``actual`` (sites × slots) issued at the start of ``issued_slot``."""


class PerfectForecaster(Forecaster):
    """The actual traces (clairvoyance)."""

    def forecast(self, actual: np.ndarray, issued_slot: int, dt_h: float) -> np.ndarray:
        return np.array(actual, float)


class PersistenceForecaster(Forecaster):
    """Same time one day earlier: R̂[s, t] = R[s, t − 24h/Δ] for t ≥ issued_slot (the first day, for
    which no history exists, repeats the last observed slot)."""

    def forecast(self, actual: np.ndarray, issued_slot: int, dt_h: float) -> np.ndarray:
        day = int(round(24 / dt_h))
        out = np.array(actual, float)
        n = out.shape[-1]
        for t in range(issued_slot, n):
            src = t - day * int(np.ceil((t - issued_slot + 1) / day))
            out[:, t] = actual[:, src] if src >= 0 else actual[:, max(issued_slot - 1, 0)]
        return out


class NoisyForecaster(Forecaster):
    """R̂ = R · max(0, 1 + ε), ε ~ N(0, (error · sqrt(lead / 24 h))²), capped at the site's peak.

    The error grows with lead time (``error`` is the relative standard deviation at 24 h); it is
    seeded by (seed, issued_slot) so reruns and policies see the same forecast.
    """

    def __init__(self, error: float = 0.2, seed: int = 0):
        if error < 0:
            raise ValueError("forecast error must be >= 0")
        self.error = error
        self.seed = seed

    def forecast(self, actual: np.ndarray, issued_slot: int, dt_h: float) -> np.ndarray:
        out = np.array(actual, float)
        n = out.shape[-1]
        lead_h = (np.arange(n) - issued_slot + 1) * dt_h
        sigma = self.error * np.sqrt(np.clip(lead_h, 0, None) / 24.0)
        rng = np.random.default_rng([self.seed, issued_slot])
        eps = rng.standard_normal(out.shape) * sigma
        future = np.arange(n) >= issued_slot
        peak = actual.max(axis=1, keepdims=True)
        noisy = np.minimum(np.maximum(0.0, actual * (1 + eps)), peak)
        out[:, future] = noisy[:, future]
        return out


def make_forecaster(name: ForecastName, error: float = 0.2, seed: int = 0) -> Forecaster:
    if name == "perfect":
        return PerfectForecaster()
    if name == "persistence":
        return PersistenceForecaster()
    if name == "noisy":
        return NoisyForecaster(error, seed)
    raise ValueError(f"unknown forecaster {name!r}: use perfect, persistence or noisy")
