"""Reading and writing instance folders (SPEC §2).

HAPPY-PATH VERSION: validation with FILE:LINE:COLUMN messages is still to come.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from greenopt.instance import Instance, Job, Link, Parameters, Site


class InstanceError(ValueError):
    """Bad input: one ``FILE:LINE:COLUMN: message`` (or ``FILE: message``) per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _bool(v) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in ("true", "yes", "1", "1.0")


def _opt(v):
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else v


def load_instance(folder: str | Path) -> Instance:
    folder = Path(folder)
    raw = tomllib.loads((folder / "instance.toml").read_text())
    meta = raw.pop("meta", {})
    start = raw.pop("start", None)
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    params = Parameters(**{k: float(v) for k, v in raw.items()}, start=start, meta=meta)

    sites_df = pd.read_csv(folder / "sites.csv", dtype={"site_id": str, "profile": str})
    sites = tuple(
        Site(
            site_id=r["site_id"],
            gpus=int(r["gpus"]),
            renewable_kw=float(r["renewable_kw"]),
            profile=r["profile"],
            pue=float(r.get("pue", 1.2)),
            idle_kw=float(r.get("idle_kw", 0.0)),
            carbon=_opt(r.get("carbon")),
            lat=_opt(r.get("lat")),
            lon=_opt(r.get("lon")),
        )
        for r in sites_df.to_dict("records")
    )
    links_df = pd.read_csv(folder / "links.csv", dtype={"a": str, "b": str})
    links = tuple(
        Link(r["a"], r["b"], float(r["bandwidth_gbps"]), float(_opt(r.get("latency_ms")) or 0.0))
        for r in links_df.to_dict("records")
    )
    jobs_df = pd.read_csv(folder / "jobs.csv", dtype={"job_id": str, "origin": str})
    jobs = tuple(
        Job(
            job_id=r["job_id"],
            power_kw=float(r["power_kw"]),
            work_h=float(r["work_h"]),
            checkpoint_gb=float(r["checkpoint_gb"]),
            arrival_h=float(r["arrival_h"]),
            origin=r["origin"],
            gpus=int(_opt(r.get("gpus")) or 1),
            deadline_h=_opt(r.get("deadline_h")),
            migratable=_bool(r["migratable"]) if _opt(r.get("migratable")) is not None else True,
        )
        for r in jobs_df.to_dict("records")
    )
    traces = pd.read_csv(folder / "traces.csv")
    time = traces.pop(traces.columns[0])
    if pd.api.types.is_numeric_dtype(time):
        hours = time.to_numpy(float)
    else:
        stamps = pd.to_datetime(time, utc=True)
        origin = pd.Timestamp(start) if start is not None else stamps.iloc[0]
        hours = ((stamps - origin).dt.total_seconds() / 3600.0).to_numpy()
        if params.start is None:
            params = Parameters(**{**params.__dict__, "start": origin.to_pydatetime()})
    traces.index = pd.Index(hours, name="time_h")
    return Instance(params, sites, links, jobs, traces.astype(float), name=folder.name)


def write_instance(instance: Instance, folder: str | Path) -> None:
    """Write ``instance`` as a SPEC §2 folder (times as hours from slot 0)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    p = instance.params
    lines = [
        f"{k} = {getattr(p, k)!r}"
        for k in (
            "slot_minutes",
            "horizon_h",
            "alpha",
            "checkpoint_overhead_s",
            "link_efficiency",
            "network_kwh_per_gb",
            "transfer_endpoint_kw",
            "slowdown_weight",
        )
    ]
    if p.start is not None:
        lines.append(f'start = "{p.start.isoformat()}"')
    if p.meta:
        lines.append("\n[meta]")
        for k, v in p.meta.items():
            lines.append(f"{k} = {_toml_value(v)}")
    (folder / "instance.toml").write_text("\n".join(lines) + "\n")
    pd.DataFrame([s.__dict__ for s in instance.sites]).to_csv(folder / "sites.csv", index=False)
    pd.DataFrame([lk.__dict__ for lk in instance.links]).to_csv(folder / "links.csv", index=False)
    jobs = pd.DataFrame([j.__dict__ for j in instance.jobs])
    jobs["migratable"] = jobs["migratable"].map({True: "true", False: "false"})
    jobs.to_csv(folder / "jobs.csv", index=False)
    tr = instance.traces.copy()
    tr.insert(0, "time", tr.index.to_numpy())
    tr.to_csv(folder / "traces.csv", index=False, float_format="%.10g")


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
