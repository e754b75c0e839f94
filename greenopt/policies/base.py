"""The extension point every scheduling policy implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from greenopt.instance import Instance
from greenopt.schedule import Schedule


class PolicySettings(BaseModel):
    """Settings of a policy; subclasses add fields. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_key_values(pairs: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` texts as a dict of stripped strings (the settings model converts the values);
    a text without ``=`` or with an empty key raises ValueError."""
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{pair!r}: expected KEY=VALUE")
        settings[key.strip()] = value.strip()
    return settings


#: What a settings value should have been, by pydantic error type (others: pydantic's message).
_EXPECTED = {
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "a string",
}


def settings_errors(error: ValidationError) -> list[str]:
    """One line per problem of a settings ValidationError, e.g. ``setting time_limit_s: expected
    a number, got 'abc'`` (no pydantic URLs)."""
    lines = []
    for err in error.errors(include_url=False):
        name = ".".join(str(part) for part in err["loc"]) or "settings"
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown setting {name}")
            continue
        expected = _EXPECTED.get(err["type"])
        if expected is None:
            message = err["msg"].removeprefix("Value error, ")
            expected = message.removeprefix("Input should be ")
            if expected == message:  # not an "Input should be" message: keep it whole
                lines.append(f"setting {name}: {message}, got {err['input']!r}")
                continue
            if expected.startswith(("greater", "less")):
                expected = "a value " + expected
        lines.append(f"setting {name}: expected {expected}, got {err['input']!r}")
    return lines


@dataclass
class PolicyOutput:
    """A schedule plus what the policy wants recorded beside its metrics (solver figures,
    fallbacks...). Keys of ``info`` that are SPEC §5 metrics (``solve_s``, ``build_s``,
    ``model_gap``) are reported as such."""

    schedule: Schedule
    info: dict[str, Any] = field(default_factory=dict)


class Policy(ABC):
    """Turns an instance (as the policy may see it) into a :class:`Schedule`.

    A policy never computes the metrics it is judged by: :func:`greenopt.simulation.simulate` does.
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
