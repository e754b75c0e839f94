"""Sweep files: validation, point expansion, run keys, and the instance knobs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import sweep_plugins as support
from helpers import make_instance

from greenopt.instance import Instance, Job, Link, Site
from greenopt.sweep.config import Grid, SweepError, load_sweep, parse_sweep
from greenopt.sweep.transform import apply_transforms, scale_jobs

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"
FLAKY = f"{support.MODULE}:FlakyPolicy"


def sweep_of(text: str, base: Path = REPO):
    return parse_sweep(tomllib.loads(text), base_dir=base, name="t")


BASE = f'[instance]\nfolder = "{TINY}"\n'


def test_cartesian_product_zip_and_seeds():
    sw = sweep_of(
        "seeds = [3, 4]\n"
        + BASE
        + """
[policy]
name = "feasibility_greedy"
[vary]
bandwidth_gbps = [1, 10]
alpha = { start = 0.05, stop = 0.2, num = 3 }
[[zip]]
checkpoint_gb = [5, 50]
forecast_error = [0.1, 0.3]
"""
    )
    assert sw.param_names == [
        "bandwidth_gbps", "alpha", "checkpoint_gb", "forecast_error", "policy", "seed"
    ]  # fmt: skip
    assert len(sw.points) == 2 * 3 * 2 * 2
    combos = {tuple(p.params[n] for n in sw.param_names) for p in sw.points}
    assert len(combos) == 24
    assert {p.params["alpha"] for p in sw.points} == {0.05, 0.125, 0.2}
    assert {(p.params["checkpoint_gb"], p.params["forecast_error"]) for p in sw.points} == {
        (5, 0.1),
        (50, 0.3),
    }
    assert len({p.key for p in sw.points}) == 24
    p = sw.points[0]
    assert p.params == {
        "bandwidth_gbps": 1, "alpha": 0.05, "checkpoint_gb": 5, "forecast_error": 0.1,
        "policy": "feasibility_greedy", "seed": 3,
    }  # fmt: skip
    assert p.spec["transform"] == {"bandwidth_gbps": 1, "alpha": 0.05, "checkpoint_gb": 5}
    assert p.spec["settings"] == {"forecast_error": 0.1, "seed": 3}  # the point's seed
    assert p.spec["instance"] == {"folder": str(TINY)}
    # keys are stable and independent of where the repo lies (folder relative to the file)
    again = sweep_of(BASE.replace(str(TINY), "instances/tiny") + sw_text_tail())
    assert [q.key for q in again.points] == [q.key for q in sweep_of(BASE + sw_text_tail()).points]


def sw_text_tail() -> str:
    return '[policy]\nname = "static"\n[vary]\nalpha = [0.1, 0.2]\n'


def test_grids():
    assert Grid(start=2, stop=8, step=2).values() == [2, 4, 6, 8]
    assert Grid(start=1, stop=100, num=3, scale="log").values() == [1.0, 10.0, 100.0]
    assert Grid(start=0, stop=1, step=0.25).values() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert Grid(start=0.1, stop=0.3, num=3).values() == [0.1, 0.2, 0.3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('colour = "red"\n' + BASE + '[policy]\nname="static"', "sweep: colour: Extra inputs"),
        (BASE + 'colour = "red"\n[policy]\nname="static"', "instance.colour: Extra inputs"),
        (BASE + '[policy]\nname="static"\n[vary]\nalpha = [1.5]', "alpha must be <= 1"),
        (BASE + '[policy]\nname="static"\n[vary]\nbandwidth_gbps = [10, 0]', "must be > 0"),
        (BASE + '[policy]\nname="static"\n[vary]\nwibble = [1]', "unknown parameter 'wibble'"),
        (BASE + '[policy]\nname="static"\n[vary]\njobs = [1]', "generated instances only"),
        (BASE + '[policy]\nname="static"\n[vary]\nseed = [1, 2]', "top-level 'seeds'"),
        (BASE + '[policy]\nname="static"\n[vary]\nalpha = []', "empty list"),
        (BASE + '[policy]\nname="static"\n[vary]\nalpha = [0.1, 0.1]', "repeated values"),
        (BASE + '[policy]\nname="nope"', "unknown policy 'nope'"),
        (BASE + "[vary]\nalpha = [0.1]", "policy.name: missing"),
        (BASE + '[policy]\nname="static"\nsettings={forecast_error=-1}', "forecast_error"),
        (BASE + '[policy]\nname="static"\nsettings={lookahead=6}', "not a setting of static"),
        (
            BASE + '[policy]\nname="static"\n[[zip]]\nalpha=[0.1, 0.2]\ncheckpoint_gb=[1]',
            "different lengths",
        ),
        (
            BASE + '[policy]\nname="static"\n[vary]\nalpha={start=0.1, stop=0.05, num=2}',
            "stop must be >= start",
        ),
        ('[instance]\nfolder = "nowhere"\n[policy]\nname="static"', "not an instance folder"),
        (
            f'[instance]\nfolder = "{TINY}"\ngenerate = {{sites = 2}}\n[policy]\nname="static"',
            "exactly one of folder and generate",
        ),
        (
            "[instance]\ngenerate = {sites = 2, jobs = 3, days = 1, colour = 1}\n"
            '[policy]\nname="static"',
            "no argument 'colour'",
        ),
        (
            '[instance]\ngenerate = {jobs = 3, days = 1}\n[policy]\nname="static"\n'
            "[vary]\nsites = [2, 0]",
            "sites must be an integer >= 1",
        ),
        (
            '[instance]\ngenerate = {sites = 2, jobs = 3}\n[policy]\nname="static"\n'
            "[vary]\ndays = [1, 400]",
            "generator: ValueError: days must be in",
        ),
    ],
)
def test_invalid_files_are_rejected_before_running(text, message):
    with pytest.raises(SweepError) as err:
        sweep_of(text)
    assert message in str(err.value)


def test_load_sweep_reports_file_problems(tmp_path):
    with pytest.raises(SweepError, match="no such file"):
        load_sweep(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[instance\n")
    with pytest.raises(SweepError, match="bad.toml"):
        load_sweep(bad)


def test_generated_instance_gets_point_seed_and_varied_arguments():
    sw = sweep_of(
        """
seeds = 2
[instance]
generate = { jobs = 5, days = 1 }
[policy]
name = "static"
[[zip]]
sites = [2, 3]
jobs = [4, 6]
"""
    )
    assert len(sw.points) == 4
    gens = [p.spec["instance"]["generate"] for p in sw.points]
    assert gens[0] == {"jobs": 4, "days": 1, "sites": 2, "seed": 0}
    assert gens[1] == {"jobs": 4, "days": 1, "sites": 2, "seed": 1}
    assert gens[3] == {"jobs": 6, "days": 1, "sites": 3, "seed": 1}
    assert sw.points[0].spec["instance"]["generator"] == "greenopt.generate:generate_instance"


def test_policy_settings_seed_threads_and_shared_runs():
    sw = sweep_of(
        BASE
        + f"""
[policy]
settings = {{ tag = 7 }}
[vary]
policy = ["static", "{FLAKY}"]
sleep_s = [0.0, 0.5]
"""
    )
    assert len(sw.points) == 4
    static = [p for p in sw.points if p.params["policy"] == "static"]
    flaky = [p for p in sw.points if p.params["policy"] == FLAKY]
    # static has neither sleep_s nor tag: both of its points are the same run
    assert static[0].key == static[1].key and static[0].spec["settings"] == {"seed": 0}
    assert len(sw.runs()) == 3
    # the plugin gets the fixed and varied settings, threads forced to 1 (it has the field)
    assert flaky[1].spec["settings"] == {"tag": 7, "sleep_s": 0.5, "threads": 1}
    assert flaky[0].key != flaky[1].key
    # an explicit threads setting is honoured
    sw2 = sweep_of(BASE + f'[policy]\nname = "{FLAKY}"\nsettings = {{ threads = 2 }}\n')
    assert sw2.points[0].spec["settings"] == {"threads": 2}


def test_changing_a_fixed_setting_changes_the_key():
    a = sweep_of(BASE + '[policy]\nname="feasibility_greedy"\nsettings={forecast_error=0.1}')
    b = sweep_of(BASE + '[policy]\nname="feasibility_greedy"\nsettings={forecast_error=0.2}')
    assert a.points[0].key != b.points[0].key
    assert a.points[0].params == b.points[0].params


def test_experiment_files_are_valid():
    files = sorted((REPO / "experiments").glob("*.toml"))
    assert len(files) >= 4
    for f in files:
        sw = load_sweep(f)
        assert sw.points, f


# ---- knobs --------------------------------------------------------------------------------


def small_instance() -> Instance:
    sites = (Site("a", 2, 10.0, "pv"), Site("b", 2, 10.0, "pv"), Site("c", 1, 5.0, "pv"))
    links = (Link("a", "b", 10.0, 5.0), Link("b", "c", 2.5))
    jobs = (
        Job("j1", 0.3, 1.0, 20.0, 0.0, "a"),
        Job("j2", 0.3, 2.0, 40.0, 0.25, "b"),
        Job("j3", 0.5, 1.0, 8.0, 0.5, "c"),
    )
    return make_instance(
        sites, jobs, links, profiles={"pv": [0.5] * 4}, slot_minutes=15, name="small"
    )


def test_knobs_rewrite_exactly_what_they_name():
    inst = small_instance()
    out = apply_transforms(
        inst,
        {"alpha": 0.25, "slowdown_weight": 0.0, "bandwidth_gbps": 4, "checkpoint_scale": 0.5},
    )
    assert out.params.alpha == 0.25 and out.params.slowdown_weight == 0.0
    assert out.params.horizon_h == 1.0 and out.params.link_efficiency == 0.9
    assert [lk.bandwidth_gbps for lk in out.links] == [4.0, 4.0]
    assert [lk.latency_ms for lk in out.links] == [5.0, 0.0]
    assert [j.checkpoint_gb for j in out.jobs] == [10.0, 20.0, 4.0]
    assert inst.links[0].bandwidth_gbps == 10.0  # the original is untouched
    scaled = apply_transforms(inst, {"bandwidth_scale": 2, "checkpoint_gb": 3, "latency_ms": 1})
    assert [lk.bandwidth_gbps for lk in scaled.links] == [20.0, 5.0]
    assert [lk.latency_ms for lk in scaled.links] == [1.0, 1.0]
    assert [j.checkpoint_gb for j in scaled.jobs] == [3.0, 3.0, 3.0]
    # fixed value first, then the factor
    both = apply_transforms(inst, {"bandwidth_gbps": 4, "bandwidth_scale": 0.5})
    assert [lk.bandwidth_gbps for lk in both.links] == [2.0, 2.0]
    with pytest.raises(ValueError, match="alpha must be <= 1"):
        apply_transforms(inst, {"alpha": 2})
    with pytest.raises(ValueError, match="unknown instance parameter 'sites'"):
        apply_transforms(inst, {"sites": 2})


def test_job_load_subsamples_and_replicates():
    jobs = small_instance().jobs
    two = scale_jobs(jobs, 2 / 3, seed=1)
    assert len(two) == 2 and set(two) <= set(jobs)
    assert [j.job_id for j in two] == sorted(j.job_id for j in two)  # original order kept
    assert scale_jobs(jobs, 2 / 3, seed=1) == two  # seeded
    assert len(scale_jobs(jobs, 0.01, seed=0)) == 1  # never empty
    assert scale_jobs(jobs, 1.0, seed=0) == jobs
    doubled = scale_jobs(jobs, 2.0, seed=0)
    assert [j.job_id for j in doubled] == ["j1", "j2", "j3", "j1~1", "j2~1", "j3~1"]
    assert doubled[4].arrival_h == 0.25 and doubled[4].origin == "b"
    grown = scale_jobs(jobs, 5 / 3, seed=0)  # 5 jobs: all 3 plus 2 of the copies
    assert len(grown) == 5 and [j.job_id for j in grown[:3]] == ["j1", "j2", "j3"]
    assert all(j.job_id.endswith("~1") for j in grown[3:])
    assert len({j.job_id for j in grown}) == 5
    inst = apply_transforms(small_instance(), {"job_load": 2.0})
    assert len(inst.jobs) == 6 and inst.job_index["j3~1"] == 5
