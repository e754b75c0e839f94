"""Write the bundled instances ``instances/tiny`` and ``instances/default`` (re-runnable).

Both use the real profiles of ``greenopt/data/profiles.csv`` (see ``SOURCES.md``); sites, links and
jobs are hand-curated here (the default's jobs are seeded draws of :func:`greenopt.generate.
draw_jobs` with a few hand-set overrides). ``python instances/build_instances.py`` rewrites both
folders, here and in the copy the package ships (``greenopt/data/instances/``, which ``greenopt
paper`` reads); ``--check`` compares both with a fresh build and prints window statistics and the
greedy-move diagnostics without writing.
"""

from __future__ import annotations

import argparse
import dataclasses
import filecmp
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from greenopt.data import PROFILES_LICENCE, PROFILES_SOURCE, load_profiles
from greenopt.files import write_instance
from greenopt.generate import draw_jobs, profile_traces
from greenopt.instance import Instance, Job, Link, Parameters, Site

HERE = Path(__file__).resolve().parent
#: The copy shipped inside the package (read through importlib.resources by ``greenopt paper``).
PACKAGED = HERE.parent / "greenopt" / "data" / "instances"
FILES = ("instance.toml", "sites.csv", "links.csv", "jobs.csv", "traces.csv", "README.md")


def _start(day: int) -> pd.Timestamp:
    return load_profiles().index[0] + pd.Timedelta(days=day)


# ---- tiny: 3 sites, 4 jobs, 16 slots ------------------------------------------------------------

TINY_START = pd.Timestamp("2016-04-16 06:00", tz="UTC")  # German sunrise, wind easing off
TINY_SLOTS = 16


def tiny() -> Instance:
    """Three sites on a path c –1 Gbps– b –10 Gbps– a, one morning hour-by-hour checkable.

    a: PV (SimBench PV3) rising; b: wind (SimBench WP3) dropping; c: PV in North Carolina at night
    (zero). Capacity factors are the real ones rounded to 2 decimals.
    """
    block = load_profiles()
    rows = block.loc[TINY_START:].iloc[:TINY_SLOTS]
    columns = {"pv_de": "simbench_PV3", "wind_de": "simbench_WP3", "pv_us": "tmy3_greensboro_nc"}
    traces = pd.DataFrame(
        {new: rows[old].round(2).to_numpy() for new, old in columns.items()},
        index=pd.Index(np.arange(TINY_SLOTS) * 0.25, name="time_h"),
    )
    sites = (
        Site("a", gpus=2, renewable_kw=4.0, profile="pv_de", pue=1.2, idle_kw=0.1),
        Site("b", gpus=2, renewable_kw=2.0, profile="wind_de", pue=1.2, idle_kw=0.1),
        Site("c", gpus=2, renewable_kw=4.0, profile="pv_us", pue=1.2, idle_kw=0.1),
    )
    links = (Link("a", "b", 10.0, 5.0), Link("b", "c", 1.0, 20.0))
    jobs = (
        Job("j1", power_kw=0.6, work_h=3.0, checkpoint_gb=2.0, arrival_h=0.0, origin="c"),
        Job("j2", 0.5, 2.0, 20.0, 0.0, "a", migratable=False),
        Job("j3", power_kw=0.6, work_h=2.5, checkpoint_gb=100.0, arrival_h=0.5, origin="c"),
        Job("j4", 0.4, 1.5, 10.0, 1.0, "b", deadline_h=3.0),
    )
    params = Parameters(
        horizon_h=TINY_SLOTS * 0.25,
        start=TINY_START.to_pydatetime(),
        meta=_meta("sites, links and jobs are hand-made; traces are real (rounded to 0.01)"),
    )
    return Instance(params, sites, links, jobs, traces, name="tiny")


# ---- default: 6 sites, 32 jobs, 3 days ----------------------------------------------------------

DEFAULT_START_DAY = 22  # 2016-04-26..28: windy, then breezy, then calm; sunny in Germany
DEFAULT_DAYS = 3
DEFAULT_SEED = 2016
DEFAULT_JOBS = 32

#: site id, gpus, pue, idle_kw, renewable_kw, profile, lat, lon (German coordinates synthetic)
DEFAULT_SITES = [
    ("de-pv1", 8, 1.2, 0.3, 8.0, "simbench_PV4", 51.05, 13.74),
    ("de-pv2", 4, 1.3, 0.2, 5.0, "simbench_PV2", 48.14, 11.58),
    ("de-wind1", 6, 1.15, 0.25, 4.0, "simbench_WP3", 53.55, 9.99),
    ("de-wind2", 4, 1.1, 0.15, 3.0, "simbench_WP9", 54.32, 8.45),
    ("us-nc-pv", 6, 1.4, 0.3, 6.0, "tmy3_greensboro_nc", 36.1, -79.95),
    ("us-ak-pv", 2, 1.5, 0.1, 3.0, "tmy3_sand_point_ak", 55.317, -160.517),
]
#: a, b, Gbps, ms — a ring-less tree plus one cycle; thin 1 Gbps spurs to the remote sites
DEFAULT_LINKS = [
    ("de-pv1", "de-pv2", 40.0, 6.5),
    ("de-pv1", "de-wind1", 100.0, 7.0),
    ("de-pv2", "de-wind1", 25.0, 9.5),
    ("de-wind1", "de-wind2", 1.0, 6.0),
    ("de-pv1", "us-nc-pv", 10.0, 52.0),
    ("us-nc-pv", "us-ak-pv", 1.0, 45.0),
]
#: hand-set fields of some jobs: every model class present, big checkpoints behind thin spurs
DEFAULT_OVERRIDES: dict[str, dict] = {
    "j000": {"checkpoint_gb": 110.0, "origin": "de-wind2"},
    "j001": {"checkpoint_gb": 1.0},
    "j002": {"checkpoint_gb": 180.0, "origin": "us-ak-pv"},
    "j003": {"checkpoint_gb": 4.5},
    "j004": {"checkpoint_gb": 150.0},
    "j005": {"checkpoint_gb": 200.0, "origin": "de-wind2"},
}


def default() -> Instance:
    """Six sites mixing German PV and wind with US PV (other time zones), a non-complete WAN with
    thin spurs, 32 seeded jobs; see README.md in the folder."""
    horizon_h = DEFAULT_DAYS * 24.0
    sites = tuple(
        Site(sid, gpus=g, renewable_kw=kw, profile=prof, pue=pue, idle_kw=idle, lat=lat, lon=lon)
        for sid, g, pue, idle, kw, prof, lat, lon in DEFAULT_SITES
    )
    links = tuple(Link(a, b, bw, ms) for a, b, bw, ms in DEFAULT_LINKS)
    rng = np.random.default_rng(DEFAULT_SEED)
    jobs = draw_jobs(DEFAULT_JOBS, horizon_h, [s.site_id for s in sites], rng)
    jobs = [dataclasses.replace(j, **DEFAULT_OVERRIDES.get(j.job_id, {})) for j in jobs]
    traces = profile_traces(
        load_profiles(), [s.profile for s in sites], DEFAULT_START_DAY, horizon_h
    )
    params = Parameters(
        horizon_h=horizon_h,
        start=_start(DEFAULT_START_DAY).to_pydatetime(),
        meta=_meta(
            "sites, links and jobs (hand-curated sites/links; jobs seeded draws of "
            f"greenopt.generate.draw_jobs, seed {DEFAULT_SEED}); traces are real"
        ),
    )
    return Instance(params, sites, links, tuple(jobs), traces, name="default")


def _meta(synthetic_parts: str) -> dict:
    return {
        "source": PROFILES_SOURCE,
        "licence": PROFILES_LICENCE,
        "synthetic": True,
        "synthetic_parts": synthetic_parts,
        "built_by": "instances/build_instances.py",
    }


README = """# instances/{name}

{description}

- Renewable traces: real. {source}. Period: {period} (UTC).
- Licence of the trace data: {licence}. Derived by `instances/build_traces.py`; see
  `instances/SOURCES.md` for every column's origin.
- Synthetic (labelled in `instance.toml` `[meta]`): {synthetic}.
- Rebuild: `python instances/build_instances.py` (deterministic).

{details}
"""


def readme(inst: Instance, description: str, details: str) -> str:
    start = pd.Timestamp(inst.params.start)
    end = start + pd.Timedelta(hours=inst.params.horizon_h)
    return README.format(
        name=inst.name,
        description=description,
        source=inst.params.meta["source"],
        period=f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}",
        licence=inst.params.meta["licence"],
        synthetic=inst.params.meta["synthetic_parts"],
        details=details,
    )


TINY_TEXT = (
    "Three sites, four jobs, 16 quarter-hour slots: small enough to check by hand.",
    """Sites: `a` (PV, SimBench PV3 × 4 kW, sun rising), `b` (wind, SimBench WP3 × 2 kW, easing
off), `c` (PV at Greensboro NC × 4 kW, night: zero). PUE 1.2, idle 0.1 kW, 2 GPUs each. Links:
c –1 Gbps, 20 ms– b –10 Gbps, 5 ms– a (not complete: no a–c link).

Jobs: `j1` (0.6 kW, 2 GB, at c) can move to b at once (T_mig ≈ 77.8 s ≤ 0.1 · 2.75 h); `j2` is
non-migratable at a; `j3` (0.6 kW, 100 GB, at c from 0.5 h) needs T_mig ≈ 949 s over the 1 Gbps
link, so moving to b is infeasible (window 2 h at its arrival slot 3, 720 s < 949 s) while moving
to a departing at slot 4 is feasible (arrives in slot 5, window 2.75 h, 990 s ≥ 949 s);
`j4` (0.4 kW, 10 GB, at b from 1 h) has a deadline at 3 h.""",
)

DEFAULT_TEXT = (
    "Six sites, 32 jobs, 3 days at 15-minute slots (288 slots), SPEC default parameters.",
    """Sites: German PV (`de-pv1` SimBench PV4, `de-pv2` PV2), German wind (`de-wind1` WP3,
`de-wind2` WP9) and US PV in other time zones (`us-nc-pv` Greensboro NC, `us-ak-pv` Sand Point
AK), so PV windows of several hours open at different UTC times; wind blows steadily on
26 April, in gusts on the 27th and weakly on the 28th. WAN: 6 links of 1–100 Gbps, not complete;
the remote sites `de-wind2` and `us-ak-pv` hang on 1 Gbps spurs, the transatlantic link is
10 Gbps.

Jobs: seeded draws (power 0.25–0.7 kW, work 2–24 h, checkpoints 1–200 GB log-uniform,
arrivals in the first 48 h, 20 % non-migratable, 30 % with deadlines) with hand-set checkpoints
for j000–j005 (110 GB at `de-wind2`, 1, 180 GB at `us-ak-pv`, 4.5, 150 and 200 GB at `de-wind2`)
so every model class is present and big checkpoints sit behind thin spurs. Large checkpoints
cannot cross a 1 Gbps spur within alpha of a short window (200 GB needs a 5.1 h window, 100 GB
2.7 h), so an energy-greedy policy that chases the largest surplus makes infeasible moves that a
feasibility-aware one avoids.""",
)


def build(folder: Path) -> list[Instance]:
    made = []
    for inst, (description, details) in ((tiny(), TINY_TEXT), (default(), DEFAULT_TEXT)):
        target = folder / inst.name
        write_instance(inst, target)
        (target / "README.md").write_text(readme(inst, description, details))
        made.append(inst)
    return made


def report(instances: list[Instance]) -> None:
    from greenopt.feasibility import window_statistics

    for inst in instances:
        print(
            f"== {inst.name}: {len(inst.sites)} sites, {len(inst.jobs)} jobs, {inst.n_slots} slots"
        )
        print(window_statistics(inst).to_string(index=False, float_format="%.2f"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed folders")
    args = parser.parse_args(argv)
    if not args.check:
        build(PACKAGED)
        report(build(HERE))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        made = build(Path(tmp))
        stale = [
            str((folder / inst.name / name).relative_to(HERE.parent))
            for folder in (HERE, PACKAGED)
            for inst in made
            for name in FILES
            if not filecmp.cmp(Path(tmp) / inst.name / name, folder / inst.name / name, False)
        ]
    report(made)
    print("stale: " + ", ".join(stale) if stale else "up to date")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
