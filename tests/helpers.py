"""Instances built in code for the tests (not a test module: tests import from here, never from
each other).

:func:`make_instance` is the one builder; :func:`ideal_instance` is it with the network overheads
switched off; :func:`job` / :func:`random_instance` are the 1 kW jobs and the random instances the
model tests share, and :func:`solve` plans with the MILP and checks what every MILP result must
meet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest

from greenopt.instance import Instance, Job, Link, Parameters, Site
from greenopt.optimization import schedule_objective
from greenopt.policies.base import PolicyOutput
from greenopt.policies.milp import MilpPolicy
from greenopt.simulation import SimulationResult, simulate

#: Parameters under which a checkpoint of G GB over a B Gbps route takes T_mig = 8·G/B s (plus
#: latency) and costs E_mig = transfer_endpoint_kw · T_mig (no per-GB energy).
IDEAL_NETWORK = dict(
    link_efficiency=1.0,
    checkpoint_overhead_s=0.0,
    network_kwh_per_gb=0.0,
    transfer_endpoint_kw=0.0,
)


def make_instance(
    sites: Mapping[str, Sequence[float]] | Sequence[Site],
    jobs: Sequence[Job] = (),
    links: Sequence[Link | tuple] = (),
    *,
    profiles: Mapping[str, Sequence[float]] | None = None,
    gpus: int | Mapping[str, int] = 4,
    pue: float | Mapping[str, float] = 1.0,
    slot_minutes: float = 60.0,
    name: str = "test",
    **params: Any,
) -> Instance:
    """An instance whose horizon is the length of its profiles.

    ``sites`` is either ``{site: renewable kW per slot}`` — each site gets a profile of its own
    (renewable_kw 1, so the profile is in kW), ``gpus`` GPUs and PUE ``pue`` (a number, or per site
    with defaults 4 and 1), no idle power — or
    :class:`Site` objects whose profiles are given in ``profiles``. ``links`` are :class:`Link`
    objects or ``(a, b, bandwidth_gbps[, latency_ms])`` tuples; ``params`` go to
    :class:`Parameters` (SPEC defaults otherwise).
    """
    if isinstance(sites, Mapping):
        if profiles is not None:
            raise ValueError("profiles come from the sites mapping")
        profiles = {f"p_{s}": r for s, r in sites.items()}

        gpus = gpus if isinstance(gpus, Mapping) else dict.fromkeys(sites, gpus)
        pue = pue if isinstance(pue, Mapping) else dict.fromkeys(sites, pue)
        sites = [
            Site(s, gpus=gpus.get(s, 4), renewable_kw=1.0, profile=f"p_{s}", pue=pue.get(s, 1.0))
            for s in sites
        ]
    elif profiles is None:
        raise ValueError("Site objects need their profiles")
    n = len(next(iter(profiles.values())))
    dt = slot_minutes / 60
    traces = pd.DataFrame(
        {k: np.asarray(v, float) for k, v in profiles.items()},
        index=pd.Index(np.arange(n) * dt, name="time_h"),
    )
    p = Parameters(horizon_h=n * dt, slot_minutes=slot_minutes, **params)
    links = tuple(lk if isinstance(lk, Link) else Link(*lk) for lk in links)
    return Instance(p, tuple(sites), links, tuple(jobs), traces, name=name)


def ideal_instance(*args: Any, **kwargs: Any) -> Instance:
    """:func:`make_instance` with :data:`IDEAL_NETWORK` unless ``kwargs`` say otherwise."""
    return make_instance(*args, **(IDEAL_NETWORK | kwargs))


def job(name="j", work_h=1.0, arrival_h=0.0, origin="A", checkpoint_gb=1.0, **kw) -> Job:
    """A 1 kW job."""
    return Job(
        name,
        power_kw=1.0,
        work_h=work_h,
        checkpoint_gb=checkpoint_gb,
        arrival_h=arrival_h,
        origin=origin,
        **kw,
    )


def random_instance(seed: int, n_sites=3, n_jobs=5, n_slots=48) -> Instance:
    """Sites s0, s1, ... in a line, sine-shaped renewables with noise, 15-minute slots; odd jobs
    have a deadline, job 3 may not migrate."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_slots) * 0.25
    renewable = {
        f"s{s}": np.clip(
            3 * np.sin((t + rng.uniform(0, 24)) / 6 * np.pi) + rng.normal(0, 0.5, n_slots), 0, None
        )
        for s in range(n_sites)
    }
    links = [(f"s{s}", f"s{s + 1}", float(rng.choice([1, 10]))) for s in range(n_sites - 1)]
    jobs = [
        Job(
            f"j{i}",
            power_kw=float(rng.uniform(0.3, 1.0)),
            work_h=float(rng.uniform(1, 5)),
            checkpoint_gb=float(rng.choice([5, 50])),
            arrival_h=float(rng.uniform(0, 6)),
            origin=f"s{rng.integers(n_sites)}",
            deadline_h=float(rng.uniform(8, 14)) if i % 2 else None,
            migratable=bool(i != 3),
        )
        for i in range(n_jobs)
    ]
    return ideal_instance(
        renewable,
        jobs,
        links,
        gpus=2,
        slot_minutes=15.0,
        checkpoint_overhead_s=60.0,
        transfer_endpoint_kw=0.2,
        network_kwh_per_gb=0.002,
    )


def solve(inst: Instance, **settings) -> tuple[PolicyOutput, SimulationResult]:
    """Plan with the MILP (every site, every slot, no warm start unless asked), simulate, and
    check the invariants every MILP result must meet."""
    settings = {
        "candidate_sites": 0,
        "departure_every": 1,
        "warm_start": (),
        "time_limit_s": 10.0,
    } | settings
    policy = MilpPolicy(**settings)
    out = policy.plan(inst)
    sim = simulate(inst, out.schedule)
    assert sim.valid, sim.violations
    assert out.info["solver_status"] == "optimal"
    recomputed = schedule_objective(inst, out.schedule, sim, policy.settings)
    assert recomputed == pytest.approx(out.info["objective"], rel=1e-7, abs=1e-7)
    return out, sim


def runs(out: PolicyOutput, job_id: str = "j") -> list[float]:
    """Run fractions of ``job_id`` by slot, from its first schedule row."""
    a = out.schedule.assignment
    return a[a.job_id == job_id].sort_values("slot").run_fraction.round(9).tolist()


def moves(out: PolicyOutput) -> list[tuple]:
    """(job, depart_slot, src, dst) of every migration."""
    m = out.schedule.migrations
    return [(r.job_id, r.depart_slot, r.src, r.dst) for r in m.itertuples(index=False)]
