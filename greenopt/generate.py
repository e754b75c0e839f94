"""Synthetic instances on real renewable traces (SPEC §2).

Traces are real (:mod:`greenopt.data`); sites, links and jobs are drawn from a seeded generator:

* **Trace block**: by default the 28-day April block of ``profiles.csv`` (``start_day`` picks the
  first day in it, random if not given). With ``start`` (a date of 2016) or ``season`` (a random
  start in that season's months, :data:`greenopt.data.SEASONS`) the block is the whole year 2016
  (``profiles_2016.parquet``) and the instance begins at 00:00 UTC of that date.
* **Profiles**: each site gets a distinct bundled profile, alternating PV and wind (random first
  kind) while both last. Once all 23 are taken, profiles are reused shifted by a random whole
  number of days (cyclically within the block: 28 days or the year), column ``<profile>+<k>d``.
* **Sites**: ``gpus`` 2–8, ``pue`` U(1.1, 1.5), ``idle_kw`` U(0.1, 0.4). Coordinates: TMY profiles
  at their station, SimBench profiles (whose sites are not public) drawn in a box over Germany.
* **Renewable capacity** (kW): the fleet's mean demand
  D = Σ_s idle_kw_s + Σ_j 1.3 · power_kw_j · work_h_j / horizon_h is split over the sites in
  proportion to gpus_s · U(0.5, 1.5), divided by ``load``, and turned into capacity through each
  profile's mean capacity factor over the whole block: renewable_kw_s = share_s · D / (load ·
  mean_cf_s). So, on average over the block, supply ≈ demand / load, but it comes in windows
  (sunny hours, windy spells) at some sites while demand sits at others. A floor
  renewable_kw_s ≥ 1.1 · (idle_kw_s + pue_s · 0.7) / q95_s (q95: the profile's 95th percentile)
  makes sure that every site has windows for any job at its best times. On the year block the
  capacity is sized on the yearly mean and 95th percentile, as for a fixed installation: winter
  instances get less renewable energy than summer ones (PV) or more (wind).
* **WAN**: a minimum spanning tree over randomly perturbed great-circle distances (a random tree
  biased to short links) plus ⌈n/4⌉ extra random links for n ≥ 4 sites (never complete);
  bandwidth drawn by WAN class (:data:`WAN_CLASSES`, option ``wan``): ``mixed`` (default)
  {1, 10, 25, 40, 100} Gbps with weights (0.2, 0.25, 0.2, 0.15, 0.2), ``thin`` {1, 10} Gbps
  (0.5, 0.5), ``thick`` {40, 100} Gbps (0.4, 0.6); latency_ms = 5 + 0.007 · distance_km (fibre at
  200 km/ms with a 1.4 route stretch, plus 5 ms equipment).
* **Jobs** (single GPU, 24–40 GB class): power_kw U(0.25, 0.7), work_h log-uniform 2–24,
  checkpoint_gb log-uniform over the checkpoint mix's range (:data:`CHECKPOINT_MIXES`, option
  ``checkpoint_mix``): ``mixed`` (default) 1–200, ``light`` 1–20, ``heavy`` 20–200 (ResNet-50
  ≈ 1 GB, LoRA fine-tunes a few GB, 7B full fine-tune with optimizer state ≈ 110 GB),
  arrival_h U(0, 2/3 · horizon), origin uniform; exactly
  round(20 %) non-migratable and round(30 %) with a deadline = arrival + slack · work_h, slack
  U(1.05, 1.3) for 40 % of them (tight) and U(1.5, 3) otherwise (deadlines may pass the horizon).

The same arguments give the same instance; generation takes milliseconds. ``wan`` and
``checkpoint_mix`` change only the bandwidth and checkpoint draws: with the same seed, the other
classes give the same sites, topology and jobs (paired instances).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime

import networkx as nx
import numpy as np
import pandas as pd

from greenopt.data import (
    PROFILES_LICENCE,
    PROFILES_SOURCE,
    PROFILES_YEAR,
    SEASONS,
    ProfileInfo,
    load_profiles,
    load_year_profiles,
    profile_catalogue,
    profile_info,
)
from greenopt.instance import Instance, Job, Link, Parameters, Site

BANDWIDTHS_GBPS = (1.0, 10.0, 25.0, 40.0, 100.0)
BANDWIDTH_WEIGHTS = (0.2, 0.25, 0.2, 0.15, 0.2)
#: WAN class → (bandwidths in Gbps, their probabilities); ``mixed`` is the default.
WAN_CLASSES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "mixed": (BANDWIDTHS_GBPS, BANDWIDTH_WEIGHTS),
    "thin": ((1.0, 10.0), (0.5, 0.5)),
    "thick": ((40.0, 100.0), (0.4, 0.6)),
}
#: Checkpoint mix → (low, high) GB of the log-uniform checkpoint size; ``mixed`` is the default.
CHECKPOINT_MIXES: dict[str, tuple[float, float]] = {
    "mixed": (1.0, 200.0),
    "light": (1.0, 20.0),
    "heavy": (20.0, 200.0),
}
GERMANY_BOX = ((47.5, 54.5), (6.0, 14.5))  # (lat range, lon range) for SimBench-profile sites
TRACE_MINUTES = 15
TYPICAL_PUE = 1.3
MAX_JOB_KW = 0.7


def generate_instance(
    sites: int,
    jobs: int,
    days: float,
    seed: int,
    *,
    slot_minutes: float = 15,
    start_day: int | None = None,
    start: str | date | None = None,
    season: str | None = None,
    load: float = 1.0,
    checkpoint_mix: str = "mixed",
    wan: str = "mixed",
    profiles: list[str] | None = None,
    name: str | None = None,
) -> Instance:
    """A seeded instance of ``sites`` sites and ``jobs`` jobs over ``days`` days of real traces.

    ``start_day`` picks the first day within the 28-day April trace block (random if ``None``);
    ``start`` (a 2016 date, ``"2016-07-01"``) or ``season`` (``winter``, ``spring``, ``summer``,
    ``autumn``: a seeded random start in its months) draws the traces from the whole year 2016
    instead (at most one of the three);
    ``load`` is the ratio of mean demand to mean renewable supply (> 1: scarcer renewables);
    ``checkpoint_mix`` (:data:`CHECKPOINT_MIXES`) and ``wan`` (:data:`WAN_CLASSES`) pick the
    checkpoint-size range and the link-bandwidth class;
    ``profiles`` fixes the profile of each site (names from :func:`greenopt.data.load_profiles`,
    optionally suffixed ``+<k>d``) instead of drawing them. See the module docstring for the rest.
    """
    start_date = _parse_start(start)
    year_mode = start is not None or season is not None
    block = load_year_profiles() if year_mode else load_profiles()
    block_days = len(block) * TRACE_MINUTES // (24 * 60)
    horizon_h = float(days) * 24.0
    _check_args(
        sites, jobs, days, slot_minutes, start_day, load, block_days, profiles, list(block.columns)
    )
    _check_options(start_day, start, start_date, season, days, checkpoint_mix, wan)
    rng = np.random.default_rng(seed)
    if start_date is not None:
        start_day = (start_date - date(PROFILES_YEAR, 1, 1)).days
    elif season is not None:
        start_day = int(rng.choice(_season_days(season, days)))
    elif start_day is None:
        start_day = int(rng.integers(0, block_days - math.ceil(days) + 1))

    names = list(profiles) if profiles is not None else _draw_profiles(sites, rng, block_days)
    site_objs, coords = _draw_sites(names, rng)
    job_objs = draw_jobs(
        jobs, horizon_h, [s.site_id for s in site_objs], rng, CHECKPOINT_MIXES[checkpoint_mix]
    )
    site_objs = _size_renewables(site_objs, job_objs, horizon_h, load, rng, block)
    links = _draw_links(site_objs, coords, rng, WAN_CLASSES[wan])
    traces = profile_traces(block, names, start_day, horizon_h)

    first: datetime = (block.index[0] + pd.Timedelta(days=start_day)).to_pydatetime()
    where = f"start_day={start_day}"
    if year_mode:
        where = f"season='{season}'" if season else f"start='{first:%Y-%m-%d}'"
    classes = "".join(
        f", {key}='{value}'"
        for key, value in (("checkpoint_mix", checkpoint_mix), ("wan", wan))
        if value != "mixed"
    )
    params = Parameters(
        horizon_h=horizon_h,
        slot_minutes=float(slot_minutes),
        start=first,
        meta={
            "source": PROFILES_SOURCE,
            "licence": PROFILES_LICENCE,
            "synthetic": True,
            "synthetic_parts": "sites, links, jobs, site coordinates of SimBench profiles; "
            "traces are real",
            "generator": (
                f"greenopt.generate.generate_instance(sites={sites}, jobs={jobs}, days={days:g}, "
                f"seed={seed}, slot_minutes={slot_minutes:g}, {where}, "
                f"load={load:g}{classes})"
            ),
        },
    )
    suffix = f"-{first:%Y%m%d}" if year_mode else ""
    suffix += "".join(f"-{v}" for v in (checkpoint_mix, wan) if v != "mixed")
    return Instance(
        params,
        tuple(site_objs),
        tuple(links),
        tuple(job_objs),
        traces,
        name=name or f"gen-s{sites}-j{jobs}-d{days:g}-seed{seed}{suffix}",
    )


# ---- pieces ---------------------------------------------------------------------------------


def _check_args(
    sites, jobs, days, slot_minutes, start_day, load, block_days, profiles, block_columns
) -> None:
    problems = []
    if sites < 1:
        problems.append("sites must be ≥ 1")
    if jobs < 0:
        problems.append("jobs must be ≥ 0")
    if not 0 < days <= block_days:
        problems.append(f"days must be in (0, {block_days}] (length of the bundled traces)")
    minutes = days * 24 * 60
    if slot_minutes <= 0 or abs(minutes / slot_minutes - round(minutes / slot_minutes)) > 1e-9:
        problems.append("days must span a whole number of slots")
    if abs(minutes / TRACE_MINUTES - round(minutes / TRACE_MINUTES)) > 1e-9:
        problems.append(f"days must span a whole number of {TRACE_MINUTES}-minute trace steps")
    if start_day is not None and not 0 <= start_day <= block_days - math.ceil(days):
        problems.append(f"start_day must be in [0, {block_days - math.ceil(days)}] for {days} days")
    if not load > 0:
        problems.append("load must be > 0")
    if profiles is None and sites > len(block_columns) * block_days:
        problems.append(f"at most {len(block_columns) * block_days} sites (profiles × day shifts)")
    if profiles is not None:
        if len(profiles) != sites:
            problems.append(f"{len(profiles)} profiles given for {sites} sites")
        for name in profiles:
            base, offset = _split_offset(name)
            if base not in block_columns or not 0 <= offset < block_days:
                problems.append(f"unknown profile {name!r}")
    if problems:
        raise ValueError("; ".join(problems))


def _parse_start(start: str | date | None) -> date | None:
    """``start`` as a date: a :class:`datetime.date` (TOML dates), or an ISO string of a date
    or of midnight UTC (``2016-07-01``, ``2016-07-01T00:00Z``)."""
    if start is None:
        return None
    if isinstance(start, datetime):
        stamp = pd.Timestamp(start)
    elif isinstance(start, date):
        return start
    else:
        try:
            stamp = pd.Timestamp(str(start))
        except ValueError as exc:
            raise ValueError(f"start must be a date such as 2016-07-01, got {start!r}") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    if stamp != stamp.normalize():
        raise ValueError(f"start must be a date (00:00 UTC), got {start!r}")
    return stamp.date()


def _season_days(season: str, days: float) -> list[int]:
    """Days of the year (0 = 1 January) in ``season`` from which ``days`` days fit in 2016."""
    first = pd.Timestamp(PROFILES_YEAR, 1, 1)
    last = (pd.Timestamp(PROFILES_YEAR + 1, 1, 1) - first).days - math.ceil(days)
    return [d for d in range(last + 1) if (first + pd.Timedelta(days=d)).month in SEASONS[season]]


def _check_options(start_day, start, start_date, season, days, checkpoint_mix, wan) -> None:
    problems = []
    if sum(x is not None for x in (start_day, start, season)) > 1:
        problems.append("give at most one of start_day, start and season")
    if start_date is not None:
        year_days = (date(PROFILES_YEAR + 1, 1, 1) - date(PROFILES_YEAR, 1, 1)).days
        offset = (start_date - date(PROFILES_YEAR, 1, 1)).days
        if not 0 <= offset <= year_days - math.ceil(days):
            problems.append(
                f"start must be a date in {PROFILES_YEAR} (the bundled year) from which {days:g} "
                f"days fit before {PROFILES_YEAR + 1}-01-01, got {start_date}"
            )
    if season is not None and season not in SEASONS:
        problems.append(f"season must be one of {', '.join(SEASONS)}, got {season!r}")
    elif season is not None and not _season_days(season, days):
        problems.append(f"no start in {season} fits {days:g} days in {PROFILES_YEAR}")
    if checkpoint_mix not in CHECKPOINT_MIXES:
        problems.append(
            f"checkpoint_mix must be one of {', '.join(CHECKPOINT_MIXES)}, got {checkpoint_mix!r}"
        )
    if wan not in WAN_CLASSES:
        problems.append(f"wan must be one of {', '.join(WAN_CLASSES)}, got {wan!r}")
    if problems:
        raise ValueError("; ".join(problems))


def _split_offset(name: str) -> tuple[str, int]:
    """``"simbench_WP3+2d"`` → (``"simbench_WP3"``, 2)."""
    base, plus, offset = name.rpartition("+")
    if plus and offset.endswith("d") and offset[:-1].isdigit():
        return base, int(offset[:-1])
    return name, 0


def _draw_profiles(sites: int, rng: np.random.Generator, block_days: int) -> list[str]:
    catalogue = profile_catalogue()
    by_kind = {kind: [p.name for p in catalogue if p.kind == kind] for kind in ("pv", "wind")}
    for names in by_kind.values():
        rng.shuffle(names)
    order: list[str] = []
    kind = "pv" if rng.random() < 0.5 else "wind"
    while by_kind["pv"] or by_kind["wind"]:
        if not by_kind[kind]:
            kind = "wind" if kind == "pv" else "pv"
        order.append(by_kind[kind].pop())
        kind = "wind" if kind == "pv" else "pv"
    names = order[:sites]
    used: set[str] = set(names)
    while len(names) < sites:
        base = order[len(names) % len(order)]
        offset = int(rng.integers(1, block_days))
        while f"{base}+{offset}d" in used:
            offset = offset % (block_days - 1) + 1
        names.append(f"{base}+{offset}d")
        used.add(names[-1])
    return names


def _profile_base(name: str) -> ProfileInfo:
    return profile_info(_split_offset(name)[0])


def _draw_sites(
    names: list[str], rng: np.random.Generator
) -> tuple[list[Site], list[tuple[float, float]]]:
    width = max(2, len(str(len(names) - 1)))
    sites, coords = [], []
    (lat0, lat1), (lon0, lon1) = GERMANY_BOX
    for i, name in enumerate(names):
        info = _profile_base(name)
        if info.lat is not None and info.lon is not None:
            shifted = _split_offset(name)[1] > 0
            jitter = rng.uniform(-1.0, 1.0, 2) if shifted else np.zeros(2)
            lat, lon = info.lat + jitter[0], info.lon + jitter[1]
        else:
            lat, lon = rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)
        coords.append((lat, lon))
        sites.append(
            Site(
                site_id=f"s{i:0{width}d}",
                gpus=int(rng.integers(2, 9)),
                renewable_kw=0.0,
                profile=name,
                pue=round(float(rng.uniform(1.1, 1.5)), 2),
                idle_kw=round(float(rng.uniform(0.1, 0.4)), 2),
                lat=round(float(lat), 3),
                lon=round(float(lon), 3),
            )
        )
    return sites, coords


def _size_renewables(
    sites: list[Site],
    jobs: list[Job],
    horizon_h: float,
    load: float,
    rng: np.random.Generator,
    block: pd.DataFrame,
) -> list[Site]:
    demand_kw = (
        sum(s.idle_kw for s in sites)
        + sum(TYPICAL_PUE * j.power_kw * j.work_h for j in jobs) / horizon_h
    )
    weights = np.array([s.gpus for s in sites], float) * rng.uniform(0.5, 1.5, len(sites))
    shares = weights / weights.sum()
    out = []
    for site, share in zip(sites, shares, strict=True):
        cf = block[_split_offset(site.profile)[0]]
        mean_cf, q95 = float(cf.mean()), float(cf.quantile(0.95))
        floor = 1.1 * (site.idle_kw + site.pue * MAX_JOB_KW) / q95
        capacity = max(share * demand_kw / (load * mean_cf), floor)
        out.append(dataclasses.replace(site, renewable_kw=round(float(capacity), 1)))
    return out


def _great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _draw_links(
    sites: list[Site],
    coords: list[tuple[float, float]],
    rng: np.random.Generator,
    wan_class: tuple[tuple[float, ...], tuple[float, ...]] = WAN_CLASSES["mixed"],
) -> list[Link]:
    n = len(sites)
    ids = [s.site_id for s in sites]
    dist = {
        (i, k): _great_circle_km(coords[i], coords[k]) for i in range(n) for k in range(i + 1, n)
    }
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for (i, k), d in dist.items():
        graph.add_edge(i, k, weight=d * rng.uniform(0.5, 1.5))
    edges = sorted(tuple(sorted(e)) for e in nx.minimum_spanning_edges(graph, data=False))
    if n >= 4:
        chosen = set(edges)
        spare = [pair for pair in dist if pair not in chosen]
        extra = min(math.ceil(n / 4), len(spare) - 1)
        picks = rng.choice(len(spare), size=extra, replace=False)
        edges += sorted(spare[p] for p in picks)
    links = []
    for i, k in edges:
        bandwidth = float(rng.choice(wan_class[0], p=wan_class[1]))
        latency = round(5.0 + 0.007 * dist[(i, k)], 2)
        links.append(Link(ids[i], ids[k], bandwidth, latency))
    return links


def draw_jobs(
    count: int,
    horizon_h: float,
    site_ids: list[str],
    rng: np.random.Generator,
    checkpoint_gb: tuple[float, float] = CHECKPOINT_MIXES["mixed"],
) -> list[Job]:
    """``count`` jobs as in the module docstring (ids ``j000``…), origins among ``site_ids``,
    checkpoints log-uniform in ``checkpoint_gb`` = (low, high)."""
    width = max(3, len(str(count - 1)))
    low_gb, high_gb = checkpoint_gb
    power = rng.uniform(0.25, 0.7, count)
    work = np.exp(rng.uniform(math.log(2), math.log(24), count))
    checkpoint = np.exp(rng.uniform(math.log(low_gb), math.log(high_gb), count))
    arrival = rng.uniform(0.0, 2.0 / 3.0 * horizon_h, count)
    origin = rng.integers(0, len(site_ids), count)
    non_migratable = set(rng.permutation(count)[: round(0.2 * count)].tolist())
    with_deadline = set(rng.permutation(count)[: round(0.3 * count)].tolist())
    tight = rng.random(count) < 0.4
    slack = np.where(tight, rng.uniform(1.05, 1.3, count), rng.uniform(1.5, 3.0, count))
    jobs = []
    for i in range(count):
        work_h = max(0.25, round(float(work[i]) * 4) / 4)
        arrival_h = min(round(float(arrival[i]), 2), 2.0 / 3.0 * horizon_h)
        deadline = None
        if i in with_deadline:
            deadline = round(arrival_h + float(slack[i]) * work_h, 2)
        jobs.append(
            Job(
                job_id=f"j{i:0{width}d}",
                power_kw=round(float(power[i]), 3),
                work_h=work_h,
                checkpoint_gb=min(max(low_gb, round(float(checkpoint[i]), 1)), high_gb),
                arrival_h=arrival_h,
                origin=site_ids[int(origin[i])],
                deadline_h=deadline,
                migratable=i not in non_migratable,
            )
        )
    return jobs


def profile_traces(
    block: pd.DataFrame, names: list[str], start_day: int, horizon_h: float
) -> pd.DataFrame:
    """Profiles ``names`` (``<profile>`` or ``<profile>+<k>d``) of ``block`` from day
    ``start_day`` over [0, horizon_h) in 15-minute steps, indexed by hours from slot 0."""
    per_day = 24 * 60 // TRACE_MINUTES
    steps = int(round(horizon_h * 60 / TRACE_MINUTES))
    data = {}
    for name in dict.fromkeys(names):
        base, offset = _split_offset(name)
        rows = (np.arange(steps) + (start_day + offset) * per_day) % len(block)
        data[name] = block[base].to_numpy()[rows]
    hours = np.arange(steps) * TRACE_MINUTES / 60.0
    return pd.DataFrame(data, index=pd.Index(hours, name="time_h"))
