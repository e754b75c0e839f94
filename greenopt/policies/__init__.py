"""Scheduling policies behind one :class:`~greenopt.policies.base.Policy` interface."""

from __future__ import annotations

from typing import Any

from greenopt.policies.base import Policy, PolicyOutput, PolicySettings
from greenopt.policies.heuristics import HEURISTICS


def policy_classes() -> dict[str, type[Policy]]:
    """Every registered policy by name (the solver policies are imported on first use)."""
    from greenopt.policies.milp import MilpPolicy
    from greenopt.policies.rolling import RollingPolicy

    return {**HEURISTICS, MilpPolicy.name: MilpPolicy, RollingPolicy.name: RollingPolicy}


def make_policy(name: str, **settings: Any) -> Policy:
    """Instantiate policy ``name`` with validated settings (unknown keys are errors)."""
    classes = policy_classes()
    if name not in classes:
        raise ValueError(f"unknown policy {name!r}; choose from {', '.join(sorted(classes))}")
    return classes[name](**settings)


__all__ = ["Policy", "PolicyOutput", "PolicySettings", "make_policy", "policy_classes"]
