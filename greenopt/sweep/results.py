"""Per-run Parquet files, resume and consolidation.

Layout of a sweep's output folder ``DIR``::

    DIR/sweep.json            what was swept (name, parameter names, points, keys)
    DIR/sweep.toml            a copy of the sweep file
    DIR/runs/<key>.parquet    one row per finished run, written atomically
    DIR/results.parquet       every point: its parameters + its run's row (consolidated)
    DIR/results.csv           the same, on request

A run file is first written under a name starting with a dot (``.<key>.parquet.<pid>.tmp``, which
Parquet dataset readers skip and :func:`finished_runs` ignores) and then renamed, so a reader never
sees half a file. A file that cannot be read is treated as missing (the run is redone).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from greenopt.files import write_csv_atomic, write_text_atomic

log = logging.getLogger(__name__)

RUNS_DIR = "runs"
RESULTS = "results.parquet"
DONE_STATUSES = ("ok", "invalid")  # finished runs: never redone
STATUSES = ("ok", "invalid", "failed")


def run_path(out: Path, key: str) -> Path:
    return Path(out) / RUNS_DIR / f"{key}.parquet"


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted columns; lists, tuples and other objects become JSON text;
    numpy scalars become Python numbers."""
    out: dict[str, Any] = {}
    for k, v in record.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, f"{name}."))
        elif isinstance(v, np.generic):  # numpy scalar (np.float64 is also a float)
            out[name] = v.item()
        elif v is None or isinstance(v, bool | int | float | str):
            out[name] = v
        else:
            out[name] = json.dumps(v, default=str)
    return out


def write_run(out: Path, key: str, row: Mapping[str, Any]) -> Path:
    """Write one run's row to ``DIR/runs/<key>.parquet`` atomically (temp file + fsync + rename)."""
    final = run_path(out, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([flatten({**row, "key": key})])
    write_table_atomic(table, final)
    return final


def write_table_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_run(path: Path) -> dict[str, Any] | None:
    """The row of a run file, or ``None`` if it is missing or unreadable."""
    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, pa.ArrowException) as e:
        if Path(path).exists():
            log.warning("ignoring unreadable run file %s (%s); the run will be redone", path, e)
        return None
    return rows[0] if len(rows) == 1 else None


def finished_runs(out: Path, keys: Iterable[str] | None = None) -> dict[str, str]:
    """Status of every readable run file in ``DIR/runs`` (only ``keys`` if given): key → status."""
    folder = Path(out) / RUNS_DIR
    if keys is None:
        paths = sorted(folder.glob("[!._]*.parquet")) if folder.is_dir() else []
    else:
        paths = [run_path(out, k) for k in keys]
    status: dict[str, str] = {}
    for path in paths:
        if not path.exists():
            continue
        try:
            rows = pq.read_table(path, columns=["status"]).to_pylist()
        except (OSError, pa.ArrowException, KeyError) as e:
            log.warning("ignoring unreadable run file %s (%s); the run will be redone", path, e)
            continue
        if len(rows) == 1:
            status[path.stem] = rows[0]["status"]
    return status


def count_finished(status: Mapping[str, str]) -> int:
    """How many runs of ``status`` (:func:`finished_runs`) finished: ok or invalid, not failed."""
    return sum(1 for s in status.values() if s != "failed")


def points_table(sweep: Any, status: Mapping[str, str]) -> pd.DataFrame:
    """One row per point of ``sweep``: its index, parameters and run key, and a note: ``same run
    as point N`` when an earlier point has the same run, else the run's status in ``status``
    (:func:`finished_runs`; blank when not run)."""
    first: dict[str, int] = {}
    rows = []
    for p in sweep.points:
        row = {"point": p.index, **p.params, "key": p.key}
        if p.key in first:
            row["note"] = f"same run as point {first[p.key]}"
        else:
            first[p.key] = p.index
            row["note"] = status.get(p.key, "")
        rows.append(row)
    return pd.DataFrame(rows)


def clean_temporary(out: Path) -> int:
    """Delete leftover temporary files of interrupted writes; returns how many."""
    folder = Path(out) / RUNS_DIR
    stale = list(folder.glob(".*.tmp")) if folder.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def consolidate(
    out: Path, points: Iterable[Any], param_names: list[str], csv: bool = False
) -> pd.DataFrame:
    """One row per point: its parameters, then its run's columns (a run column with a
    parameter's name is dropped: the parameter is what was applied). Points without a readable
    run get status ``missing``. Writes ``DIR/results.parquet`` (and ``results.csv``) atomically."""
    out = Path(out)
    cache: dict[str, dict[str, Any] | None] = {}
    rows = []
    for p in points:
        if p.key not in cache:
            cache[p.key] = read_run(run_path(out, p.key))
        run = cache[p.key] or {"key": p.key, "status": "missing"}
        row = {n: p.params.get(n) for n in param_names}
        row["point"] = p.index
        row["key"] = p.key
        row.update({k: v for k, v in run.items() if k not in row})
        rows.append(row)
    df = pd.DataFrame(rows)
    df = _uniform_columns(df)
    write_table_atomic(pa.Table.from_pandas(df, preserve_index=False), out / RESULTS)
    if csv:
        write_csv_atomic(df, out / "results.csv")
    return df


def _uniform_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns mixing types (e.g. numbers and text from different policies) become text,
    so that the table has one Arrow type per column."""
    for col in df.columns:
        if df[col].dtype != object:
            continue
        kinds = {type(v) for v in df[col] if v is not None and not _is_nan(v)}
        if len(kinds) > 1 and not kinds <= {int, float}:
            df[col] = [None if v is None or _is_nan(v) else str(v) for v in df[col]]
    return df


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def load_results(out: Path) -> pd.DataFrame:
    """``DIR/results.parquet`` as a DataFrame."""
    path = Path(out) / RESULTS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no consolidated results (run `greenopt sweep` first)")
    return pd.read_parquet(path)


def write_manifest(out: Path, sweep: Any, version: str) -> None:
    """``DIR/sweep.json`` (what is swept) and ``DIR/sweep.toml`` (the file), atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": sweep.name,
        "description": sweep.description,
        "file": str(sweep.path) if sweep.path else None,
        "params": sweep.param_names,
        "points": len(sweep.points),
        "runs": len(sweep.runs()),
        "greenopt_version": version,
    }
    write_text_atomic(json.dumps(manifest, indent=2) + "\n", out / "sweep.json")
    if sweep.path is not None and Path(sweep.path).is_file():
        write_text_atomic(Path(sweep.path).read_text(), out / "sweep.toml")


def read_manifest(out: Path) -> dict[str, Any]:
    path = Path(out) / "sweep.json"
    return json.loads(path.read_text()) if path.is_file() else {}
