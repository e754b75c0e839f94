"""Scheduling policies behind one :class:`~greenopt.policies.base.Policy` interface."""

from __future__ import annotations

from typing import Any

from greenopt.policies.base import Policy, PolicyOutput, PolicySettings
from greenopt.policies.heuristics import HEURISTICS


def policy_classes() -> dict[str, type[Policy]]:
    """Every registered policy by name (solver policies are imported lazily)."""
    classes: dict[str, type[Policy]] = dict(HEURISTICS)
    try:
        from greenopt.policies.milp import MilpPolicy

        classes[MilpPolicy.name] = MilpPolicy
    except ImportError:  # pragma: no cover - optimizer not installed yet
        pass
    try:
        from greenopt.policies.rolling import RollingPolicy

        classes[RollingPolicy.name] = RollingPolicy
    except ImportError:  # pragma: no cover
        pass
    return classes


def make_policy(name: str, **settings: Any) -> Policy:
    """Instantiate policy ``name`` with validated settings (unknown keys are errors)."""
    classes = policy_classes()
    if name not in classes:
        raise ValueError(f"unknown policy {name!r}; choose from {', '.join(sorted(classes))}")
    return classes[name](**settings)


__all__ = ["Policy", "PolicyOutput", "PolicySettings", "make_policy", "policy_classes"]
