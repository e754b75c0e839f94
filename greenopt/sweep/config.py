"""Sweep files (``experiments/*.toml``): the pydantic model and the expansion into points.

A sweep file names a base instance, a policy with its settings and the parameters to vary::

    name = "bandwidth"                          # default: the file's stem
    description = "..."
    seeds = 3                                   # or [0, 5, 7]; default 1 (seed 0)

    [instance]
    folder = "../instances/default"             # relative to this file
    # or:  generate = { sites = 4, jobs = 20, days = 2 }   (greenopt.generate.generate_instance)

    [policy]
    name = "feasibility_greedy"                 # or vary it: [vary] policy = [...]
    settings = { time_limit_s = 10 }

    [vary]                                      # cartesian product of every entry
    bandwidth_gbps = [1, 10, 100]
    checkpoint_gb = { start = 1, stop = 100, num = 5, scale = "log" }   # grid (stop included)

    [[zip]]                                     # lists varied together (one axis), equal lengths
    sites = [2, 4, 8]
    jobs = [10, 20, 40]

    [run]
    retries = 2                                 # extra tries of a failing point
    bound = false                               # add lower_bound, bound_ratio (greenopt bound)

A parameter name means, in this order: ``policy`` (the policy name); an instance knob
(:data:`greenopt.sweep.transform.KNOBS`); an argument of the instance generator (generated
instances only); a setting of the policy (applied to every swept policy that has it, an error if
none has). Every distinct generated instance is generated once while the file is checked, so
that the generator's own checks run before anything is submitted. A point's ``seed`` (from
``seeds``) seeds the generator, the policy (when its settings have ``seed``) and ``job_load``
sampling, unless the file fixes those seeds itself. Policies whose settings have ``threads`` get
``threads = 1`` unless the file says otherwise (one core per worker).

Points whose resolved run is identical (e.g. a setting the policy does not have) share one run:
its key is a hash of the resolved run (instance source, knobs, policy, settings, seeds).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import itertools
import json
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from greenopt.sweep.transform import KNOBS

DEFAULT_GENERATOR = "greenopt.generate:generate_instance"
Scalar = bool | int | float | str


class SweepError(ValueError):
    """An invalid sweep file: one message per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class Grid(BaseModel):
    """Evenly spaced values from ``start`` to ``stop`` (included): ``num`` of them (linear or
    log spacing) or every ``step``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: int | float
    stop: int | float
    num: int | None = Field(None, ge=1)
    step: int | float | None = Field(None, gt=0)
    scale: Literal["linear", "log"] = "linear"

    @model_validator(mode="after")
    def _consistent(self) -> Grid:
        if (self.num is None) == (self.step is None):
            raise ValueError("give exactly one of num and step")
        if self.scale == "log" and (self.step is not None or self.start <= 0 or self.stop <= 0):
            raise ValueError("a log grid needs num and start, stop > 0")
        if self.stop < self.start:
            raise ValueError("stop must be >= start")
        return self

    def values(self) -> list[int | float]:
        if self.step is not None:
            n = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
            raw = self.start + self.step * np.arange(n)
            integral = all(isinstance(v, int) for v in (self.start, self.step))
        elif self.scale == "log":
            raw = np.geomspace(self.start, self.stop, self.num)
            integral = False
        else:
            raw = np.linspace(self.start, self.stop, self.num)
            integral = False
        if integral:
            return [int(v) for v in raw]
        return [float(f"{v:.12g}") for v in raw]


Values = list[Scalar] | Grid


class InstanceSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    folder: str | None = None
    generate: dict[str, Any] | None = None
    generator: str = DEFAULT_GENERATOR

    @model_validator(mode="after")
    def _one_source(self) -> InstanceSection:
        if (self.folder is None) == (self.generate is None):
            raise ValueError("give exactly one of folder and generate")
        return self


class PolicySection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class RunSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    retries: int = Field(2, ge=0)
    #: compute a lower bound per instance (greenopt.bounds, method auto) and each point's
    #: lower_bound / bound_ratio (not part of the point keys)
    bound: bool = False


class SweepFile(BaseModel):
    """The TOML document, validated (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: str | None = None
    description: str = ""
    instance: InstanceSection
    policy: PolicySection = Field(default_factory=PolicySection)
    vary: dict[str, Values] = Field(default_factory=dict)
    zipped: list[dict[str, Values]] = Field(default_factory=list, alias="zip")
    seeds: int | list[int] = 1
    run: RunSection = Field(default_factory=RunSection)

    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


@dataclass(frozen=True)
class Point:
    """One point of the sweep: its parameters (column values in the results), the resolved run
    sent to a worker, and the run's key."""

    index: int
    params: dict[str, Any]
    spec: dict[str, Any]
    key: str


@dataclass
class Sweep:
    path: Path | None
    name: str
    description: str
    file: SweepFile
    param_names: list[str]
    points: list[Point]

    @property
    def retries(self) -> int:
        return self.file.run.retries

    def runs(self) -> dict[str, dict[str, Any]]:
        """Distinct runs: key → spec, in point order."""
        out: dict[str, dict[str, Any]] = {}
        for p in self.points:
            out.setdefault(p.key, p.spec)
        return out


# ---- loading -------------------------------------------------------------------------------


def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and expand a sweep file; raises :class:`SweepError` listing every problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SweepError([f"{path}: no such file"]) from None
    except tomllib.TOMLDecodeError as e:
        raise SweepError([f"{path}: {e}"]) from None
    return parse_sweep(raw, base_dir=path.parent, name=path.stem, source=path)


def parse_sweep(
    raw: dict[str, Any], base_dir: str | Path = ".", name: str = "sweep", source: Path | None = None
) -> Sweep:
    """Validate a sweep document (already parsed TOML) and expand it into points."""
    where = str(source) if source else "sweep"
    try:
        doc = SweepFile.model_validate(raw)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-after"))
            problems.append(f"{where}: {loc}: {err['msg']}")
        raise SweepError(problems) from None
    return _Expander(doc, Path(base_dir), where).expand(doc.name or name, source)


def import_object(ref: str) -> Any:
    """``"package.module:attribute"`` → the attribute."""
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise ValueError(f"{ref!r} is not of the form 'package.module:attribute'")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def make_any_policy(name: str, settings: dict[str, Any]):
    """A registered policy (:func:`greenopt.policies.make_policy`) or, for ``"module:attr"``, a
    plugin (a Policy subclass or a factory taking the settings as keywords)."""
    if ":" in name:
        return import_object(name)(**settings)
    from greenopt.policies import make_policy

    return make_policy(name, **settings)


@cache
def policy_fields(name: str) -> frozenset[str]:
    """Names of the settings of policy ``name``."""
    if ":" in name:
        obj = import_object(name)
    else:
        from greenopt.policies import policy_classes

        classes = policy_classes()
        if name not in classes:
            raise KeyError(f"unknown policy {name!r} (known: {', '.join(sorted(classes))})")
        obj = classes[name]
    model = getattr(obj, "Settings", None)
    if model is None:  # a factory: look at what it builds
        model = type(make_any_policy(name, {}).settings)
    return frozenset(model.model_fields)


def run_key(spec: dict[str, Any]) -> str:
    """Hash of a resolved run (canonical JSON, SHA-256, 20 hex digits)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class _Expander:
    def __init__(self, doc: SweepFile, base_dir: Path, where: str):
        self.doc = doc
        self.base_dir = base_dir
        self.where = where
        self.problems: list[str] = []

    def fail(self, msg: str) -> None:
        self.problems.append(f"{self.where}: {msg}")

    def check(self) -> None:
        if self.problems:
            raise SweepError(self.problems)

    # -- axes ------------------------------------------------------------------------------
    def axes(self) -> list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
        axes: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
        seen: set[str] = set()

        def values(where: str, v: Values, unique: bool = True) -> list[Any]:
            vals = v.values() if isinstance(v, Grid) else list(v)
            if not vals:
                self.fail(f"{where}: empty list of values")
            if unique and len({json.dumps(x) for x in vals}) != len(vals):
                self.fail(f"{where}: repeated values {vals}")
            return vals

        def claim(where: str, name: str) -> None:
            if name in ("seed", "seeds"):
                self.fail(f"{where}: vary seeds with the top-level 'seeds' key, not in a table")
            if name in seen:
                self.fail(f"{where}: parameter {name!r} is varied twice")
            seen.add(name)

        for name, v in self.doc.vary.items():
            claim(f"vary.{name}", name)
            axes.append(((name,), [(x,) for x in values(f"vary.{name}", v)]))
        for i, group in enumerate(self.doc.zipped):
            if not group:
                self.fail(f"zip.{i}: empty group")
                continue
            cols = []
            for name, v in group.items():
                claim(f"zip.{i}.{name}", name)
                cols.append(values(f"zip.{i}.{name}", v, unique=False))
            lengths = {len(c) for c in cols}
            if len(lengths) > 1:
                self.fail(f"zip.{i}: lists of different lengths {sorted(lengths)}")
                continue
            rows = list(zip(*cols, strict=True))
            if len({json.dumps(r) for r in rows}) != len(rows):
                self.fail(f"zip.{i}: repeated combinations of {', '.join(group)}")
            axes.append((tuple(group), rows))
        return axes

    # -- instance ----------------------------------------------------------------------------
    def instance_source(self) -> tuple[dict[str, Any], dict[str, Any], set[str] | None]:
        """(spec for workers, spec for the key, generator argument names or None for folders;
        an empty set means the generator takes any keyword)."""
        sec = self.doc.instance
        if sec.folder is not None:
            folder = (self.base_dir / sec.folder).resolve()
            if not (folder / "instance.toml").is_file():
                self.fail(f"instance.folder: {folder} is not an instance folder")
            else:
                try:
                    from greenopt.files import load_instance

                    load_instance(folder)
                except Exception as e:  # report the loader's own message
                    self.fail(f"instance.folder: {folder}: {e}")
            rel = os.path.relpath(folder, self.base_dir.resolve())
            return {"folder": str(folder)}, {"folder": rel}, None
        try:
            fn = import_object(sec.generator)
        except Exception as e:
            self.fail(f"instance.generator: cannot import {sec.generator!r}: {e}")
            return {}, {}, set()
        names = _argument_names(fn)
        gen = dict(sec.generate or {})
        for k, v in gen.items():
            if problem := _generate_problem(k, v, names):
                self.fail(f"instance.generate.{k}: {problem}")
        spec = {"generator": sec.generator, "generate": gen}
        return spec, dict(spec), names

    # -- expansion -----------------------------------------------------------------------------
    def expand(self, name: str, source: Path | None) -> Sweep:
        doc = self.doc
        axes = self.axes()
        varied = [n for names, _ in axes for n in names]
        inst_spec, inst_key, gen_names = self.instance_source()
        self.check()

        policies = self._policies(axes)
        fields: dict[str, frozenset[str]] = {}
        for p in policies:
            try:
                fields[p] = policy_fields(p)
            except Exception as e:
                self.fail(f"policy {p!r}: {e}")
        self.check()

        kind: dict[str, str] = {}
        for n in varied:
            if n == "policy":
                kind[n] = "policy"
            elif n in KNOBS:
                kind[n] = "knob"
            elif gen_names is not None and (not gen_names or n in gen_names):
                kind[n] = "generate"
            elif any(n in f for f in fields.values()):
                kind[n] = "setting"
            else:
                where = "generated instances only" if gen_names is None else "no generator argument"
                self.fail(
                    f"vary: unknown parameter {n!r}: not an instance knob ({', '.join(KNOBS)}), "
                    f"{where}, nor a setting of {', '.join(policies)}"
                )
        for k in doc.policy.settings:
            if not any(k in f for f in fields.values()):
                self.fail(f"policy.settings.{k}: not a setting of {', '.join(policies)}")
        self.check()

        points: list[Point] = []
        validated: dict[str, str | None] = {}
        seeds = doc.seed_list()
        combos = itertools.product(*[vals for _, vals in axes]) if axes else [()]
        index = 0
        for combo in combos:
            assignment: dict[str, Any] = {}
            for (names, _), vals in zip(axes, combo, strict=True):
                assignment.update(zip(names, vals, strict=True))
            for seed in seeds:
                spec, key_spec, problem = self._resolve(
                    assignment, kind, seed, inst_spec, inst_key, gen_names, fields
                )
                if problem:
                    self.fail(f"point {assignment}: {problem}")
                    continue
                sig = json.dumps([spec["policy"], spec["settings"]], sort_keys=True, default=str)
                if sig not in validated:
                    validated[sig] = _policy_problem(spec["policy"], spec["settings"])
                if validated[sig]:
                    self.fail(f"point {assignment}: {validated[sig]}")
                    continue
                if "generate" in spec["instance"]:
                    gsig = json.dumps(spec["instance"], sort_keys=True, default=str)
                    if gsig not in validated:
                        validated[gsig] = _generator_problem(spec["instance"])
                    if validated[gsig]:
                        self.fail(f"point {assignment}: {validated[gsig]}")
                        continue
                if doc.run.bound:
                    spec["bound"] = True
                params = {**assignment}
                params.setdefault("policy", spec["policy"])
                params["seed"] = seed
                points.append(Point(index, params, spec, run_key(key_spec)))
                index += 1
            if len(self.problems) > 20:
                break
        self.check()
        names = varied + [n for n in ("policy", "seed") if n not in varied]
        return Sweep(source, name, doc.description, doc, names, points)

    def _policies(self, axes) -> list[str]:
        varied = [vals for names, vals in axes if "policy" in names]
        if varied:
            i = next(names.index("policy") for names, _ in axes if "policy" in names)
            if self.doc.policy.name is not None:
                self.fail("policy.name: the policy is also varied; drop one of the two")
            out = list(dict.fromkeys(v[i] for v in varied[0]))
            for p in out:
                if not isinstance(p, str):
                    self.fail(f"vary.policy: policy names are strings, got {p!r}")
        elif self.doc.policy.name is None:
            self.fail("policy.name: missing (or vary 'policy')")
            out = []
        else:
            out = [self.doc.policy.name]
        self.check()
        return out

    def _resolve(self, assignment, kind, seed, inst_spec, inst_key, gen_names, fields):
        """The run of one point: (spec for the worker, spec for the key, problem or None)."""
        doc = self.doc
        policy = assignment.get("policy", doc.policy.name)
        have = fields[policy]
        knobs = {n: v for n, v in assignment.items() if kind[n] == "knob"}
        for n, v in knobs.items():
            if problem := KNOBS[n].problem(v):
                return {}, {}, problem
        settings = {k: v for k, v in doc.policy.settings.items() if k in have}
        settings.update({n: v for n, v in assignment.items() if kind[n] == "setting" and n in have})
        if "seed" in have and "seed" not in settings:
            settings["seed"] = seed
        if "threads" in have and "threads" not in settings:
            settings["threads"] = 1

        spec: dict[str, Any] = {"instance": dict(inst_spec)}
        key_spec: dict[str, Any] = {"instance": dict(inst_key)}
        if gen_names is not None:
            gen = dict(inst_spec["generate"])
            for n, v in assignment.items():
                if kind[n] == "generate":
                    gen[n] = v
            if "seed" not in gen and (not gen_names or "seed" in gen_names):
                gen["seed"] = seed
            for n, v in gen.items():
                if problem := _generate_problem(n, v, gen_names):
                    return {}, {}, problem
            spec["instance"]["generate"] = gen
            key_spec["instance"]["generate"] = gen
        for s in (spec, key_spec):
            s["transform"] = knobs
            if "job_load" in knobs:
                s["seed"] = seed
            s["policy"] = policy
            s["settings"] = settings
        return spec, key_spec, None


def _argument_names(fn: Callable) -> set[str]:
    """Keyword names ``fn`` accepts; the empty set if it takes ``**kwargs``."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return set()
    return {p.name for p in params if p.kind is not inspect.Parameter.POSITIONAL_ONLY}


def _generate_problem(name: str, v: Any, names: set[str]) -> str | None:
    """Why ``name = v`` is not a sensible generator argument, or ``None``."""
    if names and name not in names:
        return f"the generator takes no argument {name!r}"
    if name == "sites" and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
        return f"sites must be an integer >= 1, got {v!r}"
    if name == "jobs" and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
        return f"jobs must be an integer >= 0, got {v!r}"
    if name == "days" and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
        return f"days must be > 0, got {v!r}"
    return None


def _generator_problem(source: dict[str, Any]) -> str | None:
    """Generate the instance once (generation takes milliseconds) to catch impossible values."""
    try:
        import_object(source["generator"])(**source["generate"])
    except Exception as e:
        return f"generator: {type(e).__name__}: {e}"
    return None


def _policy_problem(name: str, settings: dict[str, Any]) -> str | None:
    try:
        make_any_policy(name, settings)
    except ValidationError as e:
        msgs = [f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()]
        return f"policy {name!r} settings: " + "; ".join(msgs)
    except Exception as e:
        return f"policy {name!r}: {type(e).__name__}: {e}"
    return None
