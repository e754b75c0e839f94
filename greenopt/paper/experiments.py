"""The experiments behind the report: sweep files under ``experiments/``.

The package ships its own copies (:func:`bundled`): the six sweep files under
``greenopt/data/experiments/`` and the instance folders they name (``instances/tiny`` and
``instances/default``) under ``greenopt/data/instances/``, laid out as in the repository so that
each file's relative ``folder = "../instances/default"`` resolves alike (the same run keys). The
repository's top-level copies are the ones users read and edit; ``tests/test_paper.py`` checks
that the two are identical. Copies, because importlib.resources finds files next to the imported
package, which in a source or editable install is the checkout's ``greenopt/`` folder: shipping
the top-level folders only in the wheel would leave a checkout without them.

At size ``full`` each file runs as written, on an embedded Dask ``LocalCluster``
(:func:`greenopt.sweep.execute.run_sweep`). At size ``quick`` (the test build) each file is
shrunk in code (:func:`shrink`) and its runs execute in this process, one after the other, with
the same bookkeeping (``DIR/runs/<key>.parquet``, then ``DIR/results.parquet``): starting Dask
would cost more than the runs.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
import time
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, TextIO

import pandas as pd

from greenopt.sweep import results
from greenopt.sweep.config import Grid, Sweep, parse_sweep

Size = Literal["full", "quick"]
SIZES: tuple[str, ...] = ("full", "quick")

#: The report's experiments: key → sweep file under ``experiments/`` (longest first: the
#: embedded cluster runs them in this order).
EXPERIMENTS: dict[str, str] = {
    "generated": "paper_generated.toml",
    "bandwidth": "bandwidth.toml",
    "forecast": "paper_forecast.toml",
    "default": "paper_default.toml",
    "noisy": "paper_noisy.toml",
    "slowdown": "slowdown.toml",
}

#: Quick size: folder instances become the bundled ``instances/tiny``, generated ones this small,
#: every solver budget at most ``QUICK_TIME_LIMIT_S``, at most two seeds and the first and last
#: value of every varied parameter except the policy.
QUICK_INSTANCE = "tiny"
QUICK_GENERATE = {"sites": 3, "jobs": 6, "days": 0.5}
QUICK_TIME_LIMIT_S = 2.0
QUICK_SEEDS = 2


def bundled(*parts: str) -> Path:
    """A file or folder the package ships under ``greenopt/data/`` (e.g. ``bundled("instances",
    "tiny")``)."""
    resource = files("greenopt").joinpath("data", *parts)
    if not isinstance(resource, Path):  # pragma: no cover - a zipped install
        where = "/".join(parts)
        raise RuntimeError(f"greenopt/data/{where} is not on disk: install greenopt unpacked")
    return resource


def experiments_dir() -> Path:
    """The bundled copies of the report's sweep files."""
    return bundled("experiments")


def shrink(raw: dict[str, Any]) -> dict[str, Any]:
    """A quick version of a parsed sweep file (see :data:`QUICK_INSTANCE` and the constants near
    it); the input is not modified."""
    doc = copy.deepcopy(raw)
    inst = doc["instance"]
    if "folder" in inst:
        inst["folder"] = str(bundled("instances", QUICK_INSTANCE))
    else:
        inst["generate"] = {**inst.get("generate", {}), **QUICK_GENERATE}
    seeds = doc.get("seeds", 1)
    doc["seeds"] = min(seeds, QUICK_SEEDS) if isinstance(seeds, int) else seeds[:QUICK_SEEDS]
    settings = doc.get("policy", {}).get("settings", {})
    if "time_limit_s" in settings:
        settings["time_limit_s"] = min(float(settings["time_limit_s"]), QUICK_TIME_LIMIT_S)
    else:
        settings["time_limit_s"] = QUICK_TIME_LIMIT_S
    doc.setdefault("policy", {})["settings"] = settings
    for name, values in doc.get("vary", {}).items():
        if name == "policy":
            continue
        listed = Grid.model_validate(values).values() if isinstance(values, dict) else values
        doc["vary"][name] = list(dict.fromkeys([listed[0], listed[-1]]))
    return doc


def load_experiment(key: str, size: Size, folder: Path | None = None) -> Sweep:
    """The sweep of experiment ``key`` (:data:`EXPERIMENTS`) at ``size``."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    folder = folder or experiments_dir()
    path = folder / EXPERIMENTS[key]
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: experiment file not found (--experiments names a folder holding "
            f"{', '.join(EXPERIMENTS.values())})"
        )
    raw = tomllib.loads(path.read_text())
    if size == "quick":
        raw = shrink(raw)
    return parse_sweep(raw, base_dir=path.parent, name=path.stem, source=path)


@dataclass
class ExperimentRun:
    """An experiment's results (one row per point, status ``ok`` / ``invalid`` / ``failed``)
    and how long running it took."""

    key: str
    sweep: Sweep
    table: pd.DataFrame
    wall_s: float

    @property
    def ok(self) -> pd.DataFrame:
        return self.table[self.table["status"] == "ok"]

    def count(self, status: str) -> int:
        return int((self.table["status"] == status).sum())


def run_inline(sweep: Sweep, out: Path) -> None:
    """Run every unfinished run of ``sweep`` in this process into ``out`` and consolidate
    ``out/results.parquet`` (the layout :func:`greenopt.sweep.execute.run_sweep` writes)."""
    from greenopt.sweep.execute import failure_row, package_version, run_point

    out.mkdir(parents=True, exist_ok=True)
    results.write_manifest(out, sweep, package_version())
    runs = sweep.runs()
    done = results.finished_runs(out, runs)
    for key, spec in runs.items():
        if done.get(key) in results.DONE_STATUSES:
            continue
        try:
            row = run_point(spec)
        except Exception as exc:  # recorded like a sweep failure; the report counts it
            row = failure_row(spec, f"{type(exc).__name__}: {exc}", exc)
        row["tries"] = 1
        row["spec"] = json.dumps(spec, sort_keys=True, default=str)
        results.write_run(out, key, row)
    results.consolidate(out, sweep.points, sweep.param_names)


def run_experiments(
    size: Size,
    work: Path,
    *,
    keys: list[str] | None = None,
    workers: int | None = None,
    resume: bool = False,
    folder: Path | None = None,
    stream: TextIO | None = None,
) -> dict[str, ExperimentRun]:
    """Run the experiments ``keys`` (default: all) at ``size`` into ``work/<key>`` and return
    their results. Without ``resume`` earlier runs in ``work`` are deleted first (from scratch)."""
    stream = stream or sys.stderr
    keys = list(EXPERIMENTS) if keys is None else keys
    sweeps = {k: load_experiment(k, size, folder) for k in keys}
    if not resume and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    walls: dict[str, float] = {}
    if size == "quick":
        for k, sw in sweeps.items():
            t0 = time.perf_counter()
            run_inline(sw, work / k)
            walls[k] = time.perf_counter() - t0
    else:
        from greenopt.sweep.execute import open_client, run_sweep

        with open_client(workers) as client:
            for k, sw in sweeps.items():
                n = len(sw.runs())
                print(f"[paper] experiment {k}: {n} runs ({EXPERIMENTS[k]})", file=stream)
                report = run_sweep(sw, work / k, client=client, progress=False, stream=stream)
                walls[k] = report.wall_s
                print(f"[paper] {report.summary()}", file=stream, flush=True)
    return {
        k: ExperimentRun(k, sw, results.load_results(work / k), walls[k])
        for k, sw in sweeps.items()
    }
