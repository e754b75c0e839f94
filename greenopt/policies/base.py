"""The extension point every scheduling policy implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from greenopt.instance import Instance
from greenopt.schedule import Schedule


class PolicySettings(BaseModel):
    """Settings of a policy; subclasses add fields. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class PolicyOutput:
    """A schedule plus what the policy wants recorded beside its metrics (solver figures,
    fallbacks...). Keys of ``info`` that are SPEC §5 metrics (``solve_s``, ``build_s``,
    ``model_gap``) are reported as such."""

    schedule: Schedule
    info: dict[str, Any] = field(default_factory=dict)


class Policy(ABC):
    """Turns an instance (as the policy may see it) into a :class:`Schedule`.

    A policy never computes the metrics it is judged by: :func:`greenopt.simulator.simulate` does.
    """

    name: ClassVar[str]
    Settings: ClassVar[type[PolicySettings]] = PolicySettings

    def __init__(self, settings: PolicySettings | None = None, **kwargs: Any):
        self.settings = settings if settings is not None else self.Settings(**kwargs)

    @abstractmethod
    def plan(self, instance: Instance) -> PolicyOutput:
        """Schedule every job of ``instance`` over its whole horizon."""

    def describe(self) -> dict[str, Any]:
        return {"policy": self.name, **self.settings.model_dump(mode="json")}
