"""The evaluation-instance set: generated instances across the seasons of 2016 and three sizes.

One table, :data:`EVALUATION_SET` (built by :func:`evaluation_set`), defines every member; each is
a seeded call of :func:`greenopt.generate.generate_instance` on the year traces, so the set is
regenerated exactly from this module (``python instances/build_evaluation.py``).

Design: two start dates per meteorological season (Mondays, 00:00 UTC; winter takes January and
December 2016) × three sizes (6 sites × 30 jobs like ``instances/default``, 12 × 100, 20 × 200),
3 days each. The checkpoint mix (``light``/``heavy``) and the WAN class (``thin``/``thick``) form
a 2 × 2 design assigned by rotation: combination (date index + size index) mod 4, so every size
meets each combination twice and every season meets all four. Seeds are distinct per member.

:func:`describe` gives a member's row of ``paper/tables/instances.csv``: its size, GPUs, the
renewable energy available over the horizon (Σ_s Σ_t renewable_kw_s · cf_s,t · Δt), the jobs' IT
energy (Σ_j power_kw_j · work_h_j) and their ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from greenopt.data import season_of
from greenopt.generate import generate_instance
from greenopt.instance import Instance

#: Two Mondays per season in 2016.
START_DATES: tuple[date, ...] = (
    date(2016, 1, 18),
    date(2016, 12, 5),
    date(2016, 3, 21),
    date(2016, 5, 16),
    date(2016, 6, 20),
    date(2016, 8, 15),
    date(2016, 9, 19),
    date(2016, 11, 14),
)
#: (sites, jobs)
SIZES: tuple[tuple[int, int], ...] = ((6, 30), (12, 100), (20, 200))
#: (checkpoint_mix, wan) of the 2 × 2 design, in rotation order.
CLASSES: tuple[tuple[str, str], ...] = (
    ("heavy", "thin"),
    ("light", "thin"),
    ("heavy", "thick"),
    ("light", "thick"),
)
DAYS = 3
FIRST_SEED = 1601


@dataclass(frozen=True)
class Member:
    """One evaluation instance: the arguments of its generator call."""

    id: str
    start: date
    sites: int
    jobs: int
    days: float
    seed: int
    checkpoint_mix: str
    wan: str

    @property
    def season(self) -> str:
        return season_of(self.start)

    def generate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`greenopt.generate.generate_instance` (also usable as a
        sweep file's ``[instance] generate = {...}``)."""
        return {
            "sites": self.sites,
            "jobs": self.jobs,
            "days": self.days,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "checkpoint_mix": self.checkpoint_mix,
            "wan": self.wan,
            "name": self.id,
        }

    def generate(self) -> Instance:
        return generate_instance(**self.generate_kwargs())


def evaluation_set() -> tuple[Member, ...]:
    """Every member, ordered by date then size (ids ``<season>-<MMDD>-<sites>x<jobs>``)."""
    members = []
    for d, start in enumerate(sorted(START_DATES)):
        for s, (sites, jobs) in enumerate(SIZES):
            mix, wan = CLASSES[(d + s) % len(CLASSES)]
            members.append(
                Member(
                    id=f"{season_of(start)}-{start:%m%d}-{sites}x{jobs}",
                    start=start,
                    sites=sites,
                    jobs=jobs,
                    days=DAYS,
                    seed=FIRST_SEED + len(members),
                    checkpoint_mix=mix,
                    wan=wan,
                )
            )
    return tuple(members)


EVALUATION_SET: tuple[Member, ...] = evaluation_set()

#: Columns of ``paper/tables/instances.csv``.
TABLE_COLUMNS = (
    "id",
    "start",
    "season",
    "sites",
    "jobs",
    "gpus",
    "checkpoint_mix",
    "wan",
    "renewable_job_energy_ratio",
    "renewable_kwh",
    "job_kwh",
    "horizon_days",
    "slots",
    "links",
    "checkpoint_gb_median",
    "bandwidth_gbps_median",
    "seed",
)


def describe(member: Member, inst: Instance) -> dict[str, Any]:
    """``member``'s row of the instance table, measured on its generated instance ``inst``."""
    renewable_kwh = float(inst.renewable_kw.sum()) * inst.dt_h
    job_kwh = float(sum(j.power_kw * j.work_h for j in inst.jobs))
    return {
        "id": member.id,
        "start": member.start.isoformat(),
        "season": member.season,
        "sites": len(inst.sites),
        "jobs": len(inst.jobs),
        "gpus": sum(s.gpus for s in inst.sites),
        "checkpoint_mix": member.checkpoint_mix,
        "wan": member.wan,
        "renewable_job_energy_ratio": round(renewable_kwh / job_kwh, 4),
        "renewable_kwh": round(renewable_kwh, 2),
        "job_kwh": round(job_kwh, 2),
        "horizon_days": inst.params.horizon_h / 24.0,
        "slots": inst.n_slots,
        "links": len(inst.links),
        "checkpoint_gb_median": float(np.median([j.checkpoint_gb for j in inst.jobs])),
        "bandwidth_gbps_median": float(np.median([x.bandwidth_gbps for x in inst.links])),
        "seed": member.seed,
    }


def instance_table(members: tuple[Member, ...] = EVALUATION_SET) -> pd.DataFrame:
    """The instance table of ``members`` (generating each: milliseconds apiece)."""
    rows = [describe(m, m.generate()) for m in members]
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def render_table(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, lineterminator="\n", float_format="%.6g")


def member_instance(member: str) -> Instance:
    """The generated instance of the member with id ``member``; as a sweep's generator
    (``generator = "greenopt.evaluation:member_instance"``) it lets a file vary ``member``."""
    by_id = {m.id: m for m in EVALUATION_SET}
    if member not in by_id:
        raise ValueError(f"no evaluation instance {member!r} (ids: {', '.join(by_id)})")
    return by_id[member].generate()
